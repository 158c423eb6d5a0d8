import { app, type InvocationContext, type Timer } from '@azure/functions';
import { sendNotification } from '../shared/notifications/notificationRun';
import { outcomeBody, summaryLine } from '../shared/notifications/notificationSummary';
import { getServices, notificationDeps } from '../shared/services';
import { planTimerNotification } from '../shared/notifications/timerNotification';

/** Reasons already logged for doing nothing: an idle timer says why once per process, not every tick. */
const loggedIdleReasons = new Set<string>();

/**
 * Sends NOTIFY_TIMER_MESSAGE (or NOTIFY_DEFAULT_MESSAGE) to the
 * NOTIFY_TIMER_TARGET conversations (or everyone) on the NOTIFY_SCHEDULE.
 * An invalid target or message, or a run cut short (refused credentials,
 * deadline, storage down), throws, so the failed invocation shows.
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
  if (timer.isPastDue) context.warn('notifyTimer: this run is late (past due)');

  const outcome = await sendNotification(notificationDeps(services), {
    activity: plan.activity,
    deadlineSeconds: services.settings.timerDeadlineSeconds,
    ...(plan.filter === undefined ? {} : { filter: plan.filter }),
  });
  if (outcome.kind === 'completed') {
    context.log(`notifyTimer: ${summaryLine(outcome.summary)}`);
    return;
  }
  // Thrown so the invocation shows as Failed in the host's log and in monitoring.
  const body = outcomeBody(outcome);
  const reason = 'summary' in outcome ? summaryLine(outcome.summary) : 'message' in body ? body.message : outcome.kind;
  context.error(`notifyTimer: ${reason}`);
  throw new Error(`notifyTimer run cut short: ${reason}`);
}

app.timer('notifyTimer', {
  schedule: '%NOTIFY_SCHEDULE%',
  runOnStartup: false,
  handler: notifyTimer,
});
