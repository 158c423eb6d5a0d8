import type { ExpansionReaders } from '../audience/audienceExpansion';
import type { PersonClaims } from '../audience/personClaims';
import type { PersonConversations } from '../audience/personConversations';
import type { Broadcast, OptOutCheck } from '../delivery/broadcastTypes';
import type { ActivityOperations, SendActivity } from '../delivery/proactiveSender';
import { defaultGroupWindowMs, type DeliveryLedgerAccess, type DeliveryLedgerReading, type DeliveryLedgerRemoval } from '../ledgers/deliveryLedgers';
import type { Logger } from '../logger';
import type { AcknowledgementStore } from '../engagement/acknowledgementStore';
import type { ReadReceiptStore } from '../engagement/readReceiptStore';
import type { ConversationStore } from '../storage/conversationStore';
import type { AudienceTable } from './audienceTable';
import { poisonedWorkError } from './notificationStatus';
import type { CancelWatch } from './cancelWatch';
import type { NotificationTable } from './notificationTable';
import type { PassTable } from './passTable';
import type { TenantLeases } from './tenantLease';
import type { WorkQueues } from './workQueues';

/** What the planner and the delivery workers work with; built once per process by the composition root. */
export interface QueuedDependencies {
  readonly notifications: NotificationTable;
  readonly audience: AudienceTable;
  readonly queues: WorkQueues;
  readonly leases: TenantLeases;
  /** The delivery ledger: who already got a notification (what decides "exactly once"); the export reads it, retention deletes it. */
  readonly ledgers: DeliveryLedgerAccess & DeliveryLedgerReading & DeliveryLedgerRemoval;
  /** The conversation references: the planner lists them, the engine prunes dead ones from them. */
  readonly store: ConversationStore;
  /**
   * The delivery engine over one batch of recipients (listed by the store it is given); with `send`,
   * the engine does that to each instead of sending the notification (a pass: update, delete).
   */
  readonly engineFor: (recipients: ConversationStore, send?: SendActivity) => Broadcast;
  /** Checkpoints of passes over the ledger (edits, recalls), in the notifications table. */
  readonly passes: PassTable;
  /** Sends, updates and deletes of activities, one attempt each (a pass's action calls them; the engine paces and retries). */
  readonly activities: ActivityOperations;
  readonly cancelWatch: CancelWatch;
  /** The opt-outs for one delivery slice; absent when opt-out is turned off (NOTIFY_ALLOW_OPT_OUT=false). */
  readonly optOuts?: () => OptOutCheck;
  /** Who pressed a notification's acknowledge button (status, export, remind, retention); absent in tests that do not need it. */
  readonly acknowledgements?: AcknowledgementStore;
  /** Read receipts: deliveries in personal chats are indexed as sent, marked when read; absent in tests that do not need it. */
  readonly readReceipts?: ReadReceiptStore;
  readonly logger: Logger;
  readonly tuning: QueuedTuning;
  /** Audience sources beyond the stored conversations: teams, people, groups. */
  readonly reach: ReachDependencies;
}

/** What expanding an `audience` takes: its readers, the person claims (each person once), and persons' conversations. */
export interface ReachDependencies {
  readonly readers: ExpansionReaders;
  readonly claims: PersonClaims;
  readonly conversations: PersonConversations;
  /** The bot's id (MicrosoftAppId) in the references of people's chats a pass addresses again from the ledger. */
  readonly botId?: string;
}

export interface QueuedTuning {
  /** How long a work item starts new pages or batches before it checkpoints and enqueues its continuation. */
  readonly sliceMs: number;
  /** Recipients the engine gets at a time; the cursor moves (and counts are added) once per batch. */
  readonly batchSize: number;
  /** References the planner lists per page. */
  readonly planPageSize: number;
  /** Pages the planner lists before it writes their recipients and saves its checkpoint. */
  readonly planStepPages: number;
  /** How long a delivery work item that caught up with a planner still running waits before looking again. */
  readonly catchUpDelaySeconds: number;
  /** How long a delivery may wait in the ledger to be written with the next ones (see ledgerGroupWindowFor). */
  readonly ledgerGroupMs: number;
}

/** Defaults: a page is the most Table Storage returns at once; a step of 5 pages writes chunks of about 50 recipients per tenant when 100 tenants are mixed. */
export const defaultTuning = { planPageSize: 1_000, planStepPages: 5, catchUpDelaySeconds: 2 } as const;

/**
 * Recipients per batch: half a slice of sends at the tenant's rate, so a
 * slice (which ends between batches) lasts at most about 1.5 slices; at most
 * 500 (10 s at Teams' 50/s: the cursor and the counts move at least that often),
 * at least 10.
 */
export function batchSizeFor(tenantRatePerSecond: number, sliceSeconds: number): number {
  return Math.max(10, Math.min(500, Math.floor((tenantRatePerSecond * sliceSeconds) / 2)));
}

/**
 * Deliveries are grouped into one ledger row for 20 ms when the tenant's pace
 * puts at least two in that time; at Teams' 50/s it would hold one, and
 * waiting would only leave a delivery unrecorded (sent again after a crash)
 * 20 ms longer, so each is written at once.
 */
export function ledgerGroupWindowFor(tenantRatePerSecond: number): number {
  return (tenantRatePerSecond * defaultGroupWindowMs) / 1_000 >= 2 ? defaultGroupWindowMs : 0;
}

/**
 * The delivery ledger's name for one tenant of a queued notification. Its own
 * namespace (ids never contain a newline), so a `/api/notify` run that used the
 * same id is another notification, as the two endpoints' ids are independent.
 * One partition per tenant: Azure Table Storage serves about 2,000 entities/s
 * per partition (100 tenants at 50/s are 5,000), and Azurite looks a row up by
 * scanning its partition, so one partition of 100,000 rows made every write
 * slower than the last.
 */
export function ledgerNameOf(id: string, tenantId: string): string {
  return `queued\n${id}\n${tenantId}`;
}

/**
 * Ends a notification whose planning is done and whose every tenant's work
 * has ended: `completed`, or `failed` when some work was poisoned. Anyone may
 * call it any time (the last worker to finish does): it only acts once
 * everything is finished, and a final state never changes.
 */
export async function finishIfDone(deps: QueuedDependencies, id: string): Promise<void> {
  const notification = await deps.notifications.get(id);
  if (notification === undefined || (notification.state !== 'queued' && notification.state !== 'running')) return;
  const plan = await deps.notifications.getPlan(id);
  if (plan?.done !== true) return;
  const work = await deps.notifications.listWork(id);
  if (work.some((item) => item.state === 'active')) return;
  const poisoned = work.filter((item) => item.state === 'poisoned');
  const completedAt = new Date();
  if (poisoned.length === 0) {
    await deps.notifications.transition(id, 'completed', { completedAt });
    deps.logger.log(`Notification ${id}: completed`);
    return;
  }
  const error = poisonedWorkError(poisoned);
  await deps.notifications.transition(id, 'failed', { completedAt, error });
  deps.logger.error(`Notification ${id}: failed: ${error}`);
}
