import type { DeliveryLedgerRemoval } from '../ledgers/deliveryLedgers';
import type { AudienceTable } from './audienceTable';
import { terminalStates, type IndexRow, type NotificationRecord, type NotificationTable } from './notificationTable';
import { ledgerNameOf } from './workContext';
import type { AcknowledgementStore } from '../engagement/acknowledgementStore';
import type { ReadReceiptStore } from '../engagement/readReceiptStore';

/**
 * Retention of queued notifications (NOTIFICATIONS_RETENTION_DAYS): a notification that finished
 * (completed, cancelled or failed) more than that long ago is removed with every row it wrote:
 *
 *   1. its audience (`notificationrecipients`, partitions `<id>\n<tenant>`),
 *   2. its delivery ledgers (`deliveries`, partitions `queued\n<id>\n<tenant>`),
 *   3. its acknowledgements and read receipts (`acknowledgements`; in `readreceipts` its read marks,
 *      and its row in each personal chat's index of deliveries not read yet, found by its listing of chats),
 *   4. its plan, work and failure rows (`notifications`, its own partition),
 *   5. its status row, and last its entry in the `~index` partition.
 *
 * In that order, and each step only once the step before has nothing left, so a run that stops
 * anywhere (the row budget, a crash, an outage) leaves the index entry, and the next run finds the
 * notification again and goes on: deleting is idempotent. Conversation references, the tenant
 * leases and the opt-outs are never touched.
 */

export interface RetentionOptions {
  readonly retentionDays: number;
  /** Rows deleted per run at most (Table Storage deletes 100 per request): the work of one run stays bounded. */
  readonly maxRowsPerRun?: number;
  /** Index entries looked at per run at most (each costs a status read). */
  readonly maxExaminedPerRun?: number;
  /**
   * How long a cancelled or failed notification is left alone after it ended, whatever the retention:
   * its workers may still be finishing a batch (and writing its counts and failures) for a while;
   * no invocation lives longer than functionTimeout (10 minutes).
   */
  readonly settleMs?: number;
  readonly now?: () => number;
}

export interface RetentionDependencies {
  readonly notifications: NotificationTable;
  readonly audience: AudienceTable;
  readonly ledgers: DeliveryLedgerRemoval;
  readonly acknowledgements?: Pick<AcknowledgementStore, 'remove'>;
  readonly readReceipts?: Pick<ReadReceiptStore, 'remove'>;
}

export interface RetentionReport {
  /** Notifications removed completely by this run. */
  readonly removed: readonly string[];
  readonly rowsDeleted: number;
  /** True when the run stopped at its budget with work left: the next run goes on from there. */
  readonly more: boolean;
}

export const defaultMaxRowsPerRun = 50_000;
const defaultMaxExamined = 5_000;
const defaultSettleMs = 10 * 60_000;
const dayMs = 24 * 3_600_000;

export async function removeExpiredNotifications(deps: RetentionDependencies, options: RetentionOptions): Promise<RetentionReport> {
  const now = (options.now ?? Date.now)();
  const cutoff = now - options.retentionDays * dayMs;
  const settledBefore = now - (options.settleMs ?? defaultSettleMs);
  const maxRows = options.maxRowsPerRun ?? defaultMaxRowsPerRun;
  const removed: string[] = [];
  let rowsDeleted = 0;
  // Finished before the cutoff implies created before it: the index (by creation) gives the candidates.
  const candidates = await deps.notifications.indexedBefore(new Date(cutoff), options.maxExaminedPerRun ?? defaultMaxExamined);
  for (const entry of candidates) {
    const notification = await deps.notifications.get(entry.id);
    // No status row: an earlier run was cut off after deleting it; only its index entry (and maybe nothing else) is left.
    if (notification !== undefined && !isExpired(notification, cutoff, settledBefore)) continue;
    const outcome = await removeNotification(deps, entry, notification, maxRows - rowsDeleted);
    rowsDeleted += outcome.deleted;
    if (!outcome.done) return { removed, rowsDeleted, more: true };
    removed.push(entry.id);
  }
  return { removed, rowsDeleted, more: false };
}

function isExpired(notification: NotificationRecord, cutoff: number, settledBefore: number): boolean {
  if (!terminalStates.includes(notification.state)) return false;
  const endedAt = (notification.completedAt ?? notification.createdAt).getTime();
  if (endedAt > cutoff) return false;
  return notification.state === 'completed' || endedAt <= settledBefore;
}

/** Deletes the notification's rows, step by step, within `budget`; `done` once its index entry is gone too. */
async function removeNotification(
  deps: RetentionDependencies,
  entry: IndexRow,
  notification: NotificationRecord | undefined,
  budget: number,
): Promise<{ readonly deleted: number; readonly done: boolean }> {
  const { id } = entry;
  // Work rows name the tenants; they go in step 3, after the steps that need them.
  const tenantIds = notification === undefined ? [] : (await deps.notifications.listWork(id)).map((work) => work.tenantId);
  let deleted = 0;
  const steps: Array<(left: number) => Promise<number>> = [
    (left) => deps.audience.remove(id, tenantIds, left),
    (left) => deps.ledgers.removeLedgers(ledgerNameOf(id, ''), tenantIds.map((tenantId) => ledgerNameOf(id, tenantId)), left),
    (left) => deps.acknowledgements?.remove(id, left) ?? Promise.resolve(0),
    (left) => deps.readReceipts?.remove(id, left) ?? Promise.resolve(0),
    (left) => deps.notifications.removeDetails(id, left),
  ];
  for (const step of steps) {
    const left = budget - deleted;
    const count = await step(left);
    deleted += count;
    if (count >= left) return { deleted, done: false };
  }
  if (budget - deleted < 2) return { deleted, done: false };
  if (notification !== undefined) await deps.notifications.removeStatus(id);
  await deps.notifications.removeIndexEntry(entry);
  return { deleted: deleted + 2, done: true };
}
