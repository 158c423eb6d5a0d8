import type { Activity } from 'botbuilder';
import type { ConversationFilter } from './conversationStore';
import { activityBytes, messageActivity, tooLarge, validateTarget } from './notificationRequest';
import { SettingsError, type Settings } from './settings';

/** What the timer does on a tick, decided from the settings alone. */
export type TimerPlan =
  | { readonly kind: 'idle'; readonly reason: string }
  | { readonly kind: 'send'; readonly activity: Partial<Activity>; readonly filter?: ConversationFilter };

/**
 * The timer sends NOTIFY_TIMER_MESSAGE, or NOTIFY_DEFAULT_MESSAGE when that is
 * unset (as settings.ts documents), to the NOTIFY_TIMER_TARGET target or to
 * everyone. Without a schedule it stays idle. A target or message that
 * cannot be sent is a configuration error: it throws a SettingsError.
 */
export function planTimerNotification(settings: Settings): TimerPlan {
  if (settings.notifySchedule === '') {
    return { kind: 'idle', reason: 'NOTIFY_SCHEDULE is not set, so the timer sends nothing' };
  }
  const text = settings.timerMessage || settings.defaultMessage;
  if (text === '') {
    return { kind: 'idle', reason: 'neither NOTIFY_TIMER_MESSAGE nor NOTIFY_DEFAULT_MESSAGE is set, so the timer sends nothing' };
  }
  const activity = messageActivity(text);
  const size = activityBytes(activity);
  if (size > settings.maxMessageBytes) {
    throw new SettingsError(settings.timerMessage ? 'NOTIFY_TIMER_MESSAGE' : 'NOTIFY_DEFAULT_MESSAGE', `is too long: ${tooLarge(size, settings.maxMessageBytes)}`);
  }
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
