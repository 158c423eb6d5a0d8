import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getServices } from '../shared/services';
import { planTimerNotification, timerNotificationId } from '../shared/notifications/timerNotification';

/** Reasons already logged for doing nothing: an idle timer says why once per process, not every tick. */
const loggedIdleReasons = new Set<string>();

/**
 * Queues NOTIFY_TIMER_MESSAGE for the NOTIFY_TIMER_TARGET conversations (or
 * everyone) on the NOTIFY_SCHEDULE, as a queued notification (the same path
 * as POST /api/notifications), so a run is not bound by functionTimeout. Its
 * id is `notifyTimer-<occurrence>`: a timer that fires twice for one
 * occurrence queues it once. An invalid target or message, or storage that
 * cannot be reached, throws, so the failed invocation shows.
 */
export async function notifyTimer(timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const { settings } = services;
  const plan = planTimerNotification(settings);
  if (plan.kind === 'idle') {
    if (!loggedIdleReasons.has(plan.reason)) {
      loggedIdleReasons.add(plan.reason);
      context.log(`notifyTimer: ${plan.reason}`);
    }
    return;
  }
  if (timer.isPastDue) context.warn('notifyTimer: this run is late (past due)');

  const id = timerNotificationId(settings.notifySchedule, new Date(), settings.timerTimeZone || undefined);
  const outcome = await services.queued.submit({ id, activity: plan.activity, ...(plan.filter === undefined ? {} : { filter: plan.filter }) });
  switch (outcome.kind) {
    case 'accepted':
      context.log(
        outcome.existing
          ? `notifyTimer: notification ${id} was already queued for this occurrence (${outcome.state}); not queued again`
          : `notifyTimer: queued notification ${id}; progress at /api/notifications/${id}`,
      );
      return;
    case 'idReused':
      // The settings changed between two runs for one occurrence: the first one's message stands.
      context.warn(`notifyTimer: notification ${id} was queued for this occurrence with another message or target; not queued again`);
      return;
    case 'tooLarge':
    case 'storageUnavailable':
      // Thrown so the invocation shows as Failed in the host's log and in monitoring.
      context.error(`notifyTimer: notification ${id} not queued: ${outcome.message}`);
      throw new Error(`notifyTimer: notification ${id} not queued: ${outcome.message}`);
  }
}

app.timer('notifyTimer', {
  schedule: '%NOTIFY_SCHEDULE%',
  runOnStartup: false,
  handler: notifyTimer,
});
