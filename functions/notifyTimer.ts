import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getServices } from '../shared/services';
import { catchUpWindowMinutes, dueTimerOccurrence, planTimerNotification } from '../shared/notifications/timerNotification';

/** Reasons already logged for doing nothing: an idle timer says why once per process, not every tick. */
const loggedIdleReasons = new Set<string>();

/**
 * Queues NOTIFY_TIMER_MESSAGE for the NOTIFY_TIMER_TARGET conversations (or
 * everyone) on the NOTIFY_SCHEDULE, as a queued notification (the same path
 * as POST /api/notifications), so a run is not bound by functionTimeout.
 *
 * The trigger fires every minute and the app decides what is due: NOTIFY_SCHEDULE
 * is read in NOTIFY_SCHEDULE_TIME_ZONE (else WEBSITE_TIME_ZONE, else UTC), which
 * works on Flex Consumption, where timers run in UTC. A run sends the latest
 * occurrence of the last 10 minutes (see dueTimerOccurrence), as notification
 * `notifyTimer-<occurrence>`: every run that finds one occurrence queues it once.
 * An invalid schedule, target or message, or storage that cannot be reached,
 * throws, so the failed invocation shows.
 */
export async function notifyTimer(timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const plan = planTimerNotification(services.settings);
  if (plan.kind === 'idle') {
    if (!loggedIdleReasons.has(plan.reason)) {
      loggedIdleReasons.add(plan.reason);
      context.log(`notifyTimer: ${plan.reason}`);
    }
    return;
  }
  const due = dueTimerOccurrence(plan.schedule, new Date());
  if (due.kind === 'notDue') {
    if (timer.isPastDue) {
      context.warn(`notifyTimer: this run is late (past due) and no occurrence of NOTIFY_SCHEDULE falls in the last ${catchUpWindowMinutes} minutes; an occurrence missed longer ago is not sent`);
    }
    return;
  }
  if (timer.isPastDue) context.warn(`notifyTimer: this run is late (past due); sending the occurrence of ${due.occurrence.toISOString()}`);

  const { id } = due;
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
  // Every minute, in whatever zone the platform runs timers in: NOTIFY_SCHEDULE is applied by the handler.
  schedule: '0 * * * * *',
  runOnStartup: false,
  handler: notifyTimer,
});
