import type { Activity } from 'botbuilder';
import type { ConversationFilter } from '../storage/conversationStore';
import { messageActivity, sizeProblem, validateTarget } from './notificationRequest';
import { canonicalTimeZone, machineTimeZone } from '../timeZones';
import { ScheduleExpressionError, ZonedSchedule } from './zonedSchedule';
import { SettingsError, type Settings } from '../settings';

/** What the timer does on a tick, decided from the settings alone. */
export type TimerPlan =
  | { readonly kind: 'idle'; readonly reason: string }
  | { readonly kind: 'send'; readonly schedule: ZonedSchedule; readonly activity: Partial<Activity>; readonly filter?: ConversationFilter };

/**
 * The timer sends NOTIFY_TIMER_MESSAGE to the NOTIFY_TIMER_TARGET target or
 * to everyone, on NOTIFY_SCHEDULE. Without a schedule or a message it stays
 * idle: a timer must not broadcast a default text nobody chose. A schedule,
 * target or message that cannot be used is a configuration error: it throws a
 * SettingsError.
 */
export function planTimerNotification(settings: Settings): TimerPlan {
  if (settings.notifySchedule === '') {
    return { kind: 'idle', reason: 'NOTIFY_SCHEDULE is not set, so the timer sends nothing' };
  }
  if (settings.timerMessage === '') {
    return { kind: 'idle', reason: 'NOTIFY_TIMER_MESSAGE is not set, so the timer sends nothing' };
  }
  const schedule = readSchedule(settings);
  const activity = messageActivity(settings.timerMessage);
  const tooLarge = sizeProblem(activity, settings.maxMessageBytes);
  if (tooLarge !== undefined) throw new SettingsError('NOTIFY_TIMER_MESSAGE', `is too long: ${tooLarge}`);
  if (settings.timerTarget === '') return { kind: 'send', schedule, activity };

  let json: unknown;
  try {
    json = JSON.parse(settings.timerTarget);
  } catch {
    throw new SettingsError('NOTIFY_TIMER_TARGET', 'must be a JSON object like {"tenantIds":["..."]}');
  }
  const target = validateTarget(json, 'NOTIFY_TIMER_TARGET');
  if (!target.ok) throw new SettingsError('NOTIFY_TIMER_TARGET', `is invalid: ${target.errors.join(' ')}`);
  return { kind: 'send', schedule, activity, filter: target.value };
}

/**
 * How far back a timer run looks for an occurrence to send. The trigger fires
 * every minute, so an occurrence is normally sent by the first run at or
 * after it; a run that was missed (an instance restarting, a deployment, a
 * cold start) is made up by the next one within this window, which sends the
 * latest occurrence it finds (occurrences closer together than the runs are
 * sent once). An occurrence longer ago than this is not sent (a message
 * written for 09:00 would arrive when it no longer means what it says), and a
 * late run says so. The same window means a schedule deployed up to 10
 * minutes after an occurrence sends that occurrence.
 */
export const catchUpWindowMinutes = 10;

export type TimerOccurrence =
  /** `id` is the notification's id: the same for every run that finds this occurrence. */
  | { readonly kind: 'due'; readonly occurrence: Date; readonly id: string }
  | { readonly kind: 'notDue' };

/**
 * The occurrence a timer run at `now` sends: the latest one in the catch-up
 * window (after now minus the window, up to now), read in the schedule's time
 * zone. Two runs that find one occurrence (a second firing, two instances, a
 * restart) get the same id, so the queued notification is sent once.
 */
export function dueTimerOccurrence(schedule: ZonedSchedule, now: Date): TimerOccurrence {
  const latest = schedule.latestOccurrence(now.getTime() - catchUpWindowMinutes * 60_000, now.getTime());
  if (latest === undefined) return { kind: 'notDue' };
  const occurrence = new Date(latest);
  return { kind: 'due', occurrence, id: timerNotificationId(occurrence) };
}

/** The id of the timer's notification for one occurrence (an instant, so the same in every time zone). */
export function timerNotificationId(occurrence: Date): string {
  return `notifyTimer-${occurrence.toISOString()}`;
}

/**
 * NOTIFY_SCHEDULE in its time zone: NOTIFY_SCHEDULE_TIME_ZONE (checked by loadSettings), else
 * WEBSITE_TIME_ZONE where the plan supports it, else this machine's (UTC in Azure). WEBSITE_TIME_ZONE
 * is the platform's setting (Windows plans take Windows names there), so a value the app cannot read
 * fails the timer alone, naming the setting that fixes it; the bot and notify keep working.
 */
function readSchedule(settings: Settings): ZonedSchedule {
  let timeZone = settings.scheduleTimeZone;
  if (timeZone === '' && settings.websiteTimeZone !== '') {
    const known = canonicalTimeZone(settings.websiteTimeZone);
    if (known === undefined) {
      throw new SettingsError(
        'WEBSITE_TIME_ZONE',
        `is not an IANA time zone name ("${settings.websiteTimeZone}"): set NOTIFY_SCHEDULE_TIME_ZONE to the IANA name NOTIFY_SCHEDULE is written in, such as Europe/Berlin`,
      );
    }
    timeZone = known;
  }
  try {
    return new ZonedSchedule(settings.notifySchedule, timeZone || machineTimeZone());
  } catch (error) {
    if (error instanceof ScheduleExpressionError) throw new SettingsError('NOTIFY_SCHEDULE', `is invalid: ${error.message}`);
    throw error;
  }
}
