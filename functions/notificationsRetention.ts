import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getServices } from '../shared/services';

/**
 * Every hour at minute 30 (a fixed schedule: retention needs no tuning beyond its days), removes
 * queued notifications that finished more than NOTIFICATIONS_RETENTION_DAYS ago, with their
 * audience, ledger, work and failure rows, at most 50,000 rows a run; a run that reaches that goes
 * on where it stopped at the next one. Conversation references are never touched. Turn it off with
 * `AzureWebJobs.notificationsRetention.Disabled=true`. Storage that cannot be reached throws, so
 * the failed run shows; the next run retries.
 */
export async function notificationsRetention(timer: Timer, context: InvocationContext): Promise<void> {
  const { settings, queued } = getServices();
  if (timer.isPastDue) context.warn('notificationsRetention: this run is late (past due)');
  const report = await queued.removeExpired({ retentionDays: settings.notificationsRetentionDays });
  context.log(
    `notificationsRetention: removed ${report.removed.length} notification(s) finished more than ${settings.notificationsRetentionDays} day(s) ago, ` +
      `${report.rowsDeleted} row(s)${report.more ? '; more are left for the next run' : ''}`,
  );
}

/** Hourly, at minute 30 (6-field NCRONTAB). */
export const retentionSchedule = '0 30 * * * *';

app.timer('notificationsRetention', {
  schedule: retentionSchedule,
  runOnStartup: false,
  handler: notificationsRetention,
});
