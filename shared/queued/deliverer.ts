import type { BroadcastSummary, OptOutCheck } from '../delivery/broadcastTypes';
import type { DeliveryLedger } from '../ledgers/deliveryLedgers';
import type { ConversationStore, StoredConversation } from '../storage/conversationStore';
import type { AudienceRow } from './audienceTable';
import { StaleRecordError, type NotificationRecord, type WorkRecord } from './notificationTable';
import { finishIfDone, ledgerNameOf, type QueuedDependencies } from './workContext';
import type { DeliverMessage } from './workQueues';
import { sentActivity } from '../notifications/sentActivity';
import { readReceiptIndexing } from './readReceiptIndexing';

export type DeliverOutcome =
  /** Unknown id or tenant, or work already ended: nothing to do. */
  | 'dropped'
  /** Another worker holds the tenant, or the planner has not listed more yet: the message is back on the queue, delayed. */
  | 'waiting'
  /** The slice ended after a checkpoint; the continuation is enqueued. */
  | 'continued'
  /** Every recipient of the tenant is finished. */
  | 'done'
  | 'cancelled'
  /** The tenant lease was lost mid-batch: the next holder redoes that batch, the ledger skipping who got it. */
  | 'leaseLost';

/** The engine stopped a batch for a reason that needs a retry (credentials refused, ledger unreadable): thrown so the queue retries it. */
export class BatchStoppedError extends Error {
  constructor(id: string, tenantId: string, reason: string) {
    super(`Notification ${id}, tenant "${tenantId}": a batch stopped early: ${reason}`);
    this.name = 'BatchStoppedError';
  }
}

/**
 * One delivery slice for one tenant of one notification.
 *
 * Under the tenant's lease (so instances together keep Teams' per-tenant
 * rate), it reads the tenant's recipients after the cursor a batch at a
 * time, sends each batch with the delivery engine (rate control, retries,
 * classification, pruning), then moves the cursor and adds the batch's
 * counts in one conditional write. After NOTIFICATIONS_SLICE_SECONDS it
 * enqueues its continuation and returns, so no invocation runs long.
 *
 * Exactly once: a batch that was started and not finished (a crash, a lost
 * lease, a timeout) is redone with the delivery ledger checked for each
 * recipient; a fresh batch skips those reads (nobody can have sent it yet)
 * but records every delivery. Duplicates can only come from sends in flight
 * when a process died, delivered but not yet recorded.
 */
export async function deliverSlice(deps: QueuedDependencies, message: DeliverMessage): Promise<DeliverOutcome> {
  const { id, tenantId } = message;
  const notification = await deps.notifications.get(id);
  if (notification === undefined) return 'dropped';
  const work = await deps.notifications.getWork(id, tenantId);
  if (work === undefined) {
    // The planner enqueues before it writes the work row: wait for it, unless planning is over without it.
    if ((await deps.notifications.getPlan(id))?.done === true) return 'dropped';
    await deps.queues.enqueueDeliver(message, deps.tuning.catchUpDelaySeconds);
    return 'waiting';
  }
  if (work.state !== 'active') return 'dropped';
  if (isStopped(notification)) return cancelWork(deps, id, work, undefined);
  if (notification.state !== 'queued' && notification.state !== 'running') return 'dropped';

  const attempt = await deps.leases.acquire(tenantId, id);
  if (!attempt.acquired) {
    await deps.queues.enqueueDeliver(message, Math.ceil(attempt.retryAfterMs / 1_000));
    return 'waiting';
  }
  const { lease } = attempt;
  const heldFrom = new Date();
  const run: RunTally = { sent: 0 };
  const cancel = deps.cancelWatch.watch(id);
  try {
    // Read again under the lease: the previous holder may have moved the cursor, and an edit or a recall
    // made before we held it must be seen (an edit's pass runs under this lease too: what we send after
    // it is the edited message, what we sent before it is in the ledger for the pass to update).
    const [current, latest] = await Promise.all([deps.notifications.getWork(id, tenantId), deps.notifications.get(id)]);
    if (current === undefined || current.state !== 'active' || latest === undefined) return 'dropped';
    if (isStopped(latest)) return cancelWork(deps, id, current, undefined);
    return await deliverBatches(deps, latest, current, message, { cancel: cancel.signal, lost: lease.lost }, run);
  } catch (error) {
    // A conditional write lost: someone else changed the work meanwhile (only after our lease lapsed).
    if (error instanceof StaleRecordError) return 'leaseLost';
    throw error;
  } finally {
    cancel.stop();
    await lease.release();
    // Who held which tenant when: the record that two instances never sent to one tenant at once.
    deps.logger.log(
      `Notification ${id}, tenant "${tenantId}": held the tenant's lease from ${heldFrom.toISOString()} to ${new Date().toISOString()} and sent ${run.sent}`,
    );
  }
}

/** What one run did, for its log line. */
interface RunTally {
  sent: number;
}

interface StopSignals {
  readonly cancel: AbortSignal;
  readonly lost: AbortSignal;
}

async function deliverBatches(
  deps: QueuedDependencies,
  notification: NotificationRecord,
  start: WorkRecord,
  message: DeliverMessage,
  signals: StopSignals,
  run: RunTally,
): Promise<DeliverOutcome> {
  const { id, tenantId } = message;
  const sliceEnd = Date.now() + deps.tuning.sliceMs;
  const stop = AbortSignal.any([signals.cancel, signals.lost]);
  let work = start;
  let batchesSent = 0;
  // Read once per slice (a tenant's opt-outs in one query per 1,000): a "stop" is honoured from the next slice on.
  const optOuts = deps.optOuts?.();
  for (;;) {
    if (signals.cancel.aborted) return cancelWork(deps, id, work, undefined);
    if (signals.lost.aborted) return 'leaseLost';
    // Planning state first, the audience after: when planning was done before the read, no rows can come later.
    const planned = (await deps.notifications.getPlan(id))?.done === true;
    const batch = await deps.audience.read(id, tenantId, work.cursor, deps.tuning.batchSize);
    if (batch.length === 0) {
      if (planned) {
        await deps.notifications.updateWork(id, work, { state: 'done' });
        await finishIfDone(deps, id);
        return 'done';
      }
      await deps.queues.enqueueDeliver(message, deps.tuning.catchUpDelaySeconds);
      return 'waiting';
    }
    // Checked once the next batch is known to exist: a tenant whose last batch ends the slice is done now,
    // not after a continuation message waits for the next poll of the queue.
    if (batchesSent > 0 && Date.now() >= sliceEnd) {
      await deps.queues.enqueueDeliver(message);
      return 'continued';
    }
    const redo = work.started === work.cursor;
    if (!redo) work = await deps.notifications.updateWork(id, work, { started: work.cursor });
    const summary = await sendBatch(deps, notification, tenantId, batch, { redo, signal: stop, optOuts });
    run.sent += summary.sent;
    const last = batch[batch.length - 1] as AudienceRow;
    if (signals.cancel.aborted) return cancelWork(deps, id, work, { summary, cursor: last.rowKey });
    if (signals.lost.aborted) return 'leaseLost';
    if (summary.stoppedEarly !== undefined || summary.notAttempted > 0) {
      throw new BatchStoppedError(id, tenantId, summary.stoppedEarly ?? `${summary.notAttempted} recipient(s) not attempted before the batch's deadline`);
    }
    work = await checkpoint(deps, id, work, summary, last.rowKey);
    batchesSent += 1;
  }
}

/** The batch through the engine: the batch is the engine's whole store listing; pruning goes to the real store. */
async function sendBatch(
  deps: QueuedDependencies,
  notification: NotificationRecord,
  tenantId: string,
  batch: readonly AudienceRow[],
  { redo, signal, optOuts }: { readonly redo: boolean; readonly signal: AbortSignal; readonly optOuts: OptOutCheck | undefined },
): Promise<BroadcastSummary> {
  const ledger = deps.ledgers.open(ledgerNameOf(notification.id, tenantId), { groupWindowMs: deps.tuning.ledgerGroupMs, revision: notification.revision });
  const readReceipts = readReceiptIndexing(deps.readReceipts, notification.id, batch.map((row) => row.conversation), deps.logger);
  // A fresh batch was sent by nobody yet: no read per recipient. Every delivery is recorded either way.
  const batchLedger: DeliveryLedger = {
    wasDelivered: redo ? (key) => ledger.wasDelivered(key) : async () => false,
    recordDelivered: async (key, activityId) => {
      await ledger.recordDelivered(key, activityId);
      readReceipts.delivered(key, activityId);
    },
  };
  const broadcast = deps.engineFor(batchStore(batch.map((row) => row.conversation), deps.store));
  const summary = await broadcast({
    id: notification.id,
    activity: sentActivity(notification.request, notification.id),
    ledger: batchLedger,
    // A safety net only: a batch normally takes batchSize / 50 s; past this it is redone by the queue's retry.
    deadlineSeconds: Math.max(60, deps.tuning.sliceMs / 1_000 + 60),
    signal,
    ...(optOuts === undefined ? {} : { optOuts }),
  });
  // Once the batch is sent, before it is counted: a send's time is not lengthened, and a finished batch has its deliveries indexed.
  await readReceipts.index();
  return summary;
}

/** Failure rows first, then counts and cursor in one conditional write: a batch counts once. */
async function checkpoint(deps: QueuedDependencies, id: string, work: WorkRecord, summary: BroadcastSummary, cursor: string): Promise<WorkRecord> {
  await deps.notifications.recordFailures(
    id,
    summary.failures.map((failure) => ({ tenantId: work.tenantId, ...failure })),
  );
  return deps.notifications.updateWork(id, work, {
    cursor,
    sent: work.sent + summary.sent,
    failed: work.failed + summary.failed,
    pruned: work.pruned + summary.pruned,
    retried: work.retried + summary.retried,
    alreadySent: work.alreadySent + summary.alreadySent,
    optedOut: work.optedOut + summary.optedOut,
  });
}

/** Ends a tenant's work on cancel: what the cut batch did still counts; the rest stays pending for good. */
async function cancelWork(
  deps: QueuedDependencies,
  id: string,
  work: WorkRecord,
  cut: { readonly summary: BroadcastSummary; readonly cursor: string } | undefined,
): Promise<DeliverOutcome> {
  try {
    if (cut === undefined) await deps.notifications.updateWork(id, work, { state: 'cancelled' });
    else {
      const counted = await checkpoint(deps, id, work, cut.summary, work.cursor);
      await deps.notifications.updateWork(id, counted, { state: 'cancelled' });
    }
  } catch (error) {
    // The worker that holds the tenant records its own cancel.
    if (!(error instanceof StaleRecordError)) throw error;
  }
  return 'cancelled';
}

/** Cancelled, or recalled (which cancels first): nothing more is sent. */
function isStopped(notification: NotificationRecord): boolean {
  return notification.state === 'cancelled' || notification.state === 'recalled';
}

/** A store whose listing is one batch; deletes (pruning) and lookups go to the real store. */
export function batchStore(conversations: readonly StoredConversation[], store: ConversationStore): ConversationStore {
  return {
    list: async () => ({ items: conversations }),
    delete: (key, condition) => store.delete(key, condition),
    get: (key) => store.get(key),
    upsert: (conversation) => store.upsert(conversation),
    insert: (conversation) => store.insert(conversation),
    listTeams: (tenantId) => store.listTeams(tenantId),
  };
}
