import type { BroadcastSummary } from '../delivery/broadcastTypes';
import type { SendActivity, SendOptions } from '../delivery/proactiveSender';
import { deliveryRowKey, type DeliveryLedger, type LedgerEntry, type LedgerMark } from '../ledgers/deliveryLedgers';
import type { StoredConversation } from '../storage/conversationStore';
import type { AudienceRow } from './audienceTable';
import { BatchStoppedError } from './deliverer';
import { batchStore, personKey } from './audienceBatch';
import { isConversation, isPerson, type PlannedRecipient } from '../audience/plannedRecipient';
import type { ConversationKey } from '../storage/conversationStore';
import { personChat } from './personChat';
import { StaleRecordError, type NotificationRecord, type NotificationState } from './notificationTable';
import type { PassRecord, PassState } from './passTable';
import { ledgerNameOf, type QueuedDependencies } from './workContext';
import type { DeliverMessage } from './workQueues';

/**
 * A pass over the chats a notification was delivered to, one tenant at a time: the machinery
 * behind an edit (PUT every delivered message), a recall (DELETE it), and any later action on
 * the same chats (a follow-up send).
 *
 * A pass is a queue message `{ id, tenantId, pass }` on the delivery queue and a row
 * `pass~<pass>~<tenant>` (passTable.ts). One slice of it:
 *
 * 1. takes the tenant's lease, as delivery does: a pass and the tenant's deliveries (of this
 *    notification or another) never run at once, and together they keep the tenant's rate;
 * 2. reads the notification under the lease and asks the action what to do now (`PassPlan`);
 * 3. reads the tenant's ledger once (activity ids, revisions, marks);
 * 4. walks the tenant's audience from the pass's cursor a batch at a time; a chat with a ledger
 *    entry that the action `needs` goes through the delivery engine (rate control, retries,
 *    classification, pruning of gone conversations) with the action instead of a send; each
 *    success is marked in the ledger (`LedgerMark`) as it happens, grouped like deliveries;
 * 5. moves the cursor and adds the batch's counts in one conditional write; after
 *    NOTIFICATIONS_SLICE_SECONDS it enqueues its continuation.
 *
 * Exactly once per chat: a batch cut short (crash, lost lease) is redone from the same cursor
 * by the next holder, which reads the ledger again under the lease, so chats whose mark was
 * written are skipped; only actions in flight (done but not yet marked) can be repeated.
 *
 * To add an action: give it a pass name and a `PassPlan` in passActions.ts, create its rows and
 * enqueue its messages (`startPass`); nothing here changes.
 */

/**
 * How long a repeatable action's marks wait to be written together. At Teams' 50 requests/s a tenant's
 * marks came one row each, 500 single-row writes/s for 10 tenants, which Azurite served in 240 ms on
 * average (8 s at worst) while each request's send slot waited for its mark: the passes bench fell to
 * 58-90 % of the channel's bound. Five marks a row brought writes to about 10 ms (docs/performance.md).
 */
const repeatableMarkWindowMs = 100;

/** What a pass does to each delivered chat of a tenant. */
export interface PassAction {
  /** Recorded in the ledger for a chat once `act` succeeded on it; its name is this pass's own. */
  readonly mark: LedgerMark;
  /** Whether a delivered chat still needs the action; false counts it as unchanged. */
  needs(entry: LedgerEntry, conversation: StoredConversation): boolean;
  /**
   * Whether the action addresses the delivered message itself (update, delete): a chat delivered without a
   * recorded activity id then cannot be reached and counts as failed. False for an action that sends anew.
   */
  readonly requiresActivityId: boolean;
  /**
   * Whether doing it twice to a chat leaves the chat as once (an update, a delete): its marks are then
   * written in groups, as a crash before the mark only means doing it again. False for a send.
   */
  readonly repeatable: boolean;
  /**
   * One attempt on one chat; throws what the channel answered (the engine paces, retries and classifies).
   * `options.beforeWire` must be passed on to the operation: it is the rate limiter's gate. Resolves with
   * the id of a message it sent (a reminder), kept with the chat's mark so that a recall deletes it too.
   */
  act(conversation: StoredConversation, entry: LedgerEntry, options: SendOptions | undefined): Promise<string | undefined | void>;
  /** Whether the pass goes on once the notification is in `state` (checked between batches). */
  continuesIn(state: NotificationState): boolean;
}

/** What a pass does now, decided under the lease from the notification as it is. */
export type PassPlan =
  | { readonly kind: 'act'; readonly action: PassAction }
  | { readonly kind: 'end'; readonly state: Exclude<PassState, 'active' | 'done' | 'poisoned'>; readonly reason: string };

export type PassOutcome =
  /** Unknown id, pass or tenant, or the pass already ended: nothing to do. */
  | 'dropped'
  /** Another worker holds the tenant: the message is back on the queue, delayed. */
  | 'waiting'
  | 'continued'
  | 'done'
  /** The action said the pass is over (superseded, or the notification was recalled). */
  | 'ended'
  | 'leaseLost';

export type PassMessage = DeliverMessage & { readonly pass: string };

/** Creates the pass's row for each tenant and enqueues its first slice; a tenant whose row exists is enqueued again only if its pass is still active. */
export async function startPass(deps: QueuedDependencies, id: string, pass: string, tenantIds: readonly string[]): Promise<void> {
  for (const tenantId of tenantIds) {
    const created = await deps.passes.create(id, pass, tenantId);
    if (!created && (await deps.passes.get(id, pass, tenantId))?.state !== 'active') continue;
    await deps.queues.enqueueDeliver({ id, tenantId, pass });
  }
}

export async function passSlice(deps: QueuedDependencies, message: PassMessage, planFor: (notification: NotificationRecord, pass: string) => PassPlan | Promise<PassPlan>): Promise<PassOutcome> {
  const { id, tenantId, pass } = message;
  const first = await deps.passes.get(id, pass, tenantId);
  if (first === undefined || first.state !== 'active') return 'dropped';
  const attempt = await deps.leases.acquire(tenantId, id);
  if (!attempt.acquired) {
    await deps.queues.enqueueDeliver(message, Math.ceil(attempt.retryAfterMs / 1_000));
    return 'waiting';
  }
  const { lease } = attempt;
  const tally = { done: 0 };
  try {
    // Read again under the lease: the previous holder may have moved the cursor, an edit may have come.
    const [notification, record] = await Promise.all([deps.notifications.get(id), deps.passes.get(id, pass, tenantId)]);
    if (notification === undefined || record === undefined || record.state !== 'active') return 'dropped';
    const plan = await planFor(notification, pass);
    if (plan.kind === 'end') {
      await deps.passes.update(id, record, { state: plan.state, error: plan.reason });
      return 'ended';
    }
    return await passBatches(deps, message, notification, record, plan.action, lease.lost, tally);
  } catch (error) {
    if (error instanceof StaleRecordError) return 'leaseLost';
    throw error;
  } finally {
    await lease.release();
    deps.logger.log(`Notification ${id}, tenant "${tenantId}": pass "${pass}" held the tenant's lease and acted on ${tally.done} chat(s)`);
  }
}

async function passBatches(
  deps: QueuedDependencies,
  message: PassMessage,
  notification: NotificationRecord,
  start: PassRecord,
  action: PassAction,
  lost: AbortSignal,
  tally: { done: number },
): Promise<PassOutcome> {
  const { id, tenantId } = message;
  const sliceEnd = Date.now() + deps.tuning.sliceMs;
  const entries = await deps.ledgers.entries(ledgerNameOf(id, tenantId));
  let record = start;
  let batches = 0;
  for (;;) {
    if (lost.aborted) return 'leaseLost';
    if (batches > 0) {
      const state = await deps.notifications.stateOf(id);
      if (state === undefined || !action.continuesIn(state)) {
        await deps.passes.update(id, record, { state: 'cancelled', error: `the notification is ${state ?? 'gone'}` });
        return 'ended';
      }
    }
    const batch = await deps.audience.read(id, tenantId, record.cursor, deps.tuning.batchSize);
    if (batch.length === 0) {
      await deps.passes.update(id, record, { state: 'done' });
      return 'done';
    }
    if (batches > 0 && Date.now() >= sliceEnd) {
      await deps.queues.enqueueDeliver(message);
      return 'continued';
    }
    if (record.started !== record.cursor) record = await deps.passes.update(id, record, { started: record.cursor });
    const sorted = sortBatch(batch, entries, action, deps.reach?.botId);
    const summary = sorted.targets.length === 0 ? undefined : await actOnBatch(deps, notification, tenantId, sorted.targets, action, lost);
    if (lost.aborted) return 'leaseLost';
    if (summary !== undefined && (summary.stoppedEarly !== undefined || summary.notAttempted > 0)) {
      throw new BatchStoppedError(id, tenantId, summary.stoppedEarly ?? `${summary.notAttempted} chat(s) not reached before the batch's deadline`);
    }
    for (const failure of summary?.failures ?? []) {
      deps.logger.warn(`Notification ${id}, pass "${message.pass}": ${failure.conversationId} (tenant "${tenantId}"): ${failure.status ?? '-'} ${failure.code}: ${failure.message}`);
    }
    if (sorted.withoutId > 0) deps.logger.warn(`Notification ${id}, pass "${message.pass}": ${sorted.withoutId} chat(s) of tenant "${tenantId}" were delivered without a recorded activity id or chat and cannot be reached`);
    const done = (summary?.sent ?? 0) + sorted.doneBefore;
    tally.done += done;
    const last = batch[batch.length - 1] as AudienceRow;
    record = await deps.passes.update(id, record, {
      cursor: last.rowKey,
      done: record.done + done,
      failed: record.failed + (summary?.failed ?? 0) + sorted.withoutId,
      pruned: record.pruned + (summary?.pruned ?? 0),
      retried: record.retried + (summary?.retried ?? 0),
      unchanged: record.unchanged + sorted.unchanged,
    });
    batches += 1;
  }
}

/** A delivered chat a pass acts on, with its ledger entry and the key the ledger knows it by (a person's, for a person). */
interface PassTarget {
  readonly conversation: StoredConversation;
  readonly entry: LedgerEntry;
  readonly ledgerKey: ConversationKey;
}

/**
 * The batch's delivered chats that need the action; the others are counted. Chats never delivered are
 * not part of a pass. A person is reached in the chat their delivery recorded; one delivered before
 * chats were recorded has none to address and counts as failed, like a delivery without an activity id.
 * A chat already carrying the action's mark was done by an attempt at this batch that ended before
 * adding its counts (the counts move with the cursor): it counts as done, not as unchanged.
 */
function sortBatch(batch: readonly AudienceRow[], entries: ReadonlyMap<string, LedgerEntry>, action: PassAction, botId: string | undefined): SortedBatch {
  const sorted: SortedBatch = { targets: [], unchanged: 0, withoutId: 0, doneBefore: 0 };
  for (const { recipient } of batch) {
    const delivered = deliveredChat(recipient, entries, botId);
    if (delivered === undefined) continue;
    const { conversation, entry, ledgerKey } = delivered;
    if (entry.marks.has(action.mark.name)) sorted.doneBefore += 1;
    else if (conversation !== undefined && !action.needs(entry, conversation)) sorted.unchanged += 1;
    else if (conversation === undefined || (action.requiresActivityId && entry.activityId === undefined)) sorted.withoutId += 1;
    else sorted.targets.push({ conversation, entry, ledgerKey });
  }
  return sorted;
}

interface SortedBatch {
  readonly targets: PassTarget[];
  unchanged: number;
  withoutId: number;
  doneBefore: number;
}

/** A recipient's ledger entry and the chat it was delivered in (undefined for a person delivered before chats were recorded); undefined when not delivered. */
function deliveredChat(recipient: PlannedRecipient, entries: ReadonlyMap<string, LedgerEntry>, botId: string | undefined): { conversation: StoredConversation | undefined; entry: LedgerEntry; ledgerKey: ConversationKey } | undefined {
  if (isConversation(recipient)) {
    const entry = entries.get(deliveryRowKey(recipient));
    return entry === undefined ? undefined : { conversation: recipient, entry, ledgerKey: recipient };
  }
  if (!isPerson(recipient)) return undefined;
  const ledgerKey = personKey(recipient);
  const entry = entries.get(deliveryRowKey(ledgerKey));
  if (entry === undefined) return undefined;
  return { conversation: entry.chat === undefined ? undefined : personChat(recipient, entry.chat, botId), entry, ledgerKey };
}

/** The engine over the chats, doing the action instead of a send, marking each success in the ledger. */
async function actOnBatch(
  deps: QueuedDependencies,
  notification: NotificationRecord,
  tenantId: string,
  targets: readonly PassTarget[],
  action: PassAction,
  signal: AbortSignal,
): Promise<BroadcastSummary> {
  const byChat = new Map(targets.map((target) => [deliveryRowKey(target.conversation), target]));
  const groupWindowMs = action.repeatable ? Math.max(repeatableMarkWindowMs, deps.tuning.ledgerGroupMs) : deps.tuning.ledgerGroupMs;
  const marks = deps.ledgers.openMarks(ledgerNameOf(notification.id, tenantId), action.mark, { groupWindowMs });
  // The mark goes where the delivery is: under the person's key for a person.
  const ledger: DeliveryLedger = { wasDelivered: async () => false, recordDelivered: (key, activityId) => marks.record(byChat.get(deliveryRowKey(key))?.ledgerKey ?? key, activityId) };
  const act: SendActivity = async (conversation, _activity, options) => {
    const target = byChat.get(deliveryRowKey(conversation));
    if (target === undefined) throw new Error(`no ledger entry for ${conversation.conversationId}`); // sortBatch picked only chats with one
    return action.act(conversation, target.entry, options);
  };
  const broadcast = deps.engineFor(batchStore(targets.map((target) => target.conversation), deps.store), act);
  return broadcast({
    id: notification.id,
    activity: notification.request.activity,
    ledger,
    deadlineSeconds: Math.max(60, deps.tuning.sliceMs / 1_000 + 60),
    signal,
  });
}
