import type { Activity } from 'botbuilder';
import type { ConversationFilter } from '../storage/conversationStore';
import { messageActivity, sizeProblem, validateTarget } from './notificationRequest';
import { Cron } from 'croner';
import { SettingsError, type Settings } from '../settings';

/** What the timer does on a tick, decided from the settings alone. */
export type TimerPlan =
  | { readonly kind: 'idle'; readonly reason: string }
  | { readonly kind: 'send'; readonly activity: Partial<Activity>; readonly filter?: ConversationFilter };

/**
 * The timer sends NOTIFY_TIMER_MESSAGE to the NOTIFY_TIMER_TARGET target or
 * to everyone. Without a schedule or a message it stays idle: a timer must
 * not broadcast a default text nobody chose. A target or message that cannot
 * be sent is a configuration error: it throws a SettingsError.
 */
export function planTimerNotification(settings: Settings): TimerPlan {
  if (settings.notifySchedule === '') {
    return { kind: 'idle', reason: 'NOTIFY_SCHEDULE is not set, so the timer sends nothing' };
  }
  if (settings.timerMessage === '') {
    return { kind: 'idle', reason: 'NOTIFY_TIMER_MESSAGE is not set, so the timer sends nothing' };
  }
  const activity = messageActivity(settings.timerMessage);
  const tooLarge = sizeProblem(activity, settings.maxMessageBytes);
  if (tooLarge !== undefined) throw new SettingsError('NOTIFY_TIMER_MESSAGE', `is too long: ${tooLarge}`);
  if (settings.timerTarget === '') return { kind: 'send', activity };

  let json: unknown;
  try {
    json = JSON.parse(settings.timerTarget);
  } catch {
    throw new SettingsError('NOTIFY_TIMER_TARGET', 'must be a JSON object like {"tenantIds":["..."]}');
  }
  const target = validateTarget(json, 'NOTIFY_TIMER_TARGET');
  if (!target.ok) throw new SettingsError('NOTIFY_TIMER_TARGET', `is invalid: ${target.errors.join(' ')}`);
  return { kind: 'send', activity, filter: target.value };
}

/**
 * The id of the timer's notification for the occurrence it runs for: the
 * latest occurrence of the schedule at or before `now`. A timer that fires
 * twice for one occurrence (two instances, a restart) gets the same id, so
 * the queued notification is sent once.
 */
export function timerNotificationId(schedule: string, now: Date, timeZone?: string): string {
  return `notifyTimer-${latestOccurrence(schedule, now, timeZone).toISOString()}`;
}

function latestOccurrence(schedule: string, now: Date, timeZone: string | undefined): Date {
  const cron = new Cron(schedule, { paused: true, ...(timeZone ? { timezone: timeZone } : {}) });
  // Look back further and further until an occurrence falls at or before now, then walk forward to the last one.
  for (let lookBackMs = 1_000; lookBackMs < 400 * 24 * 3_600_000; lookBackMs *= 4) {
    let found = cron.nextRun(new Date(now.getTime() - lookBackMs));
    if (found === null || found.getTime() > now.getTime()) continue;
    for (let next = cron.nextRun(found); next !== null && next.getTime() <= now.getTime(); next = cron.nextRun(next)) found = next;
    return found;
  }
  // No occurrence in the last year (run by hand for a schedule that never comes): the run itself is the occurrence.
  return new Date(Math.floor(now.getTime() / 1_000) * 1_000);
}
