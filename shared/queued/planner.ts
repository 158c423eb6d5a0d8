import type { ConversationPage, StoredConversation } from '../storage/conversationStore';
import { StaleRecordError, terminalStates } from './notificationTable';
import { finishIfDone, type QueuedDependencies } from './workContext';
import { delayUntil, type PlanMessage } from './workQueues';

export type PlanOutcome =
  /** Unknown id, or a notification already final (a scheduled one cancelled before its time included): nothing to do. */
  | 'dropped'
  /** A scheduled notification's message came before its time (clocks differ): back on the queue until then. */
  | 'scheduled'
  /** Every reference is listed: the audience is complete and `matched` known. */
  | 'planned'
  /** The slice ended: the checkpoint is saved and the continuation enqueued. */
  | 'continued'
  | 'cancelled'
  /** Another planner moved the checkpoint first (a duplicated message): it goes on, this one stops. */
  | 'superseded';

/** A scheduled message that shows this little before its time (another instance's clock) is taken as on time. */
const scheduleToleranceMs = 1_000;

/**
 * One planning slice: lists the matching references from the checkpoint a
 * step (a few pages) at a time, writes each step's recipients into the
 * audience table (one partition per tenant), starts a delivery work item for
 * each tenant the first time it appears, and saves the checkpoint (store
 * continuation, matched so far) after every step. Delivery starts while
 * planning goes on.
 *
 * A crash between a step's writes and its checkpoint redoes that step: its
 * rows are upserted under the same keys and counted once, since `matched`
 * moves only with the checkpoint.
 */
export async function planSlice(deps: QueuedDependencies, message: PlanMessage): Promise<PlanOutcome> {
  const { id } = message;
  const notification = await deps.notifications.get(id);
  if (notification === undefined || terminalStates.includes(notification.state)) return 'dropped';
  if (notification.state === 'scheduled') {
    const early = delayUntil(notification.sendAt, Date.now() + scheduleToleranceMs);
    if (early > 0) {
      await deps.queues.enqueuePlan({ id }, early);
      return 'scheduled';
    }
  }
  // The transition happens once (a final or running state is never moved back), so a duplicated message never starts it twice.
  if (notification.state === 'queued' || notification.state === 'scheduled') {
    await deps.notifications.transition(id, 'running', { startedAt: new Date() }, ['queued', 'scheduled']);
  }

  let plan = await deps.notifications.ensurePlan(id);
  const sliceEnd = Date.now() + deps.tuning.sliceMs;
  /** Tenants whose delivery work this run has made sure of. */
  const known = new Set<string>();
  const list = (continuationToken: string | undefined): Promise<ConversationPage> =>
    deps.store.list({
      ...(notification.request.filter === undefined ? {} : { filter: notification.request.filter }),
      ...(continuationToken === undefined ? {} : { continuationToken }),
      pageSize: deps.tuning.planPageSize,
    });
  // The next page is read while this step is written (a page read that is not used in the end is harmless).
  let next = plan.done ? undefined : list(plan.continuation);
  next?.catch(() => undefined);
  while (!plan.done && next !== undefined) {
    if ((await deps.notifications.stateOf(id)) === 'cancelled') return 'cancelled';
    // A step is up to planStepPages pages, written together: fewer, fuller chunks to write and to read.
    const step: StoredConversation[] = [];
    let pagesInStep = 0;
    let continuation: string | undefined;
    while (next !== undefined && pagesInStep < deps.tuning.planStepPages) {
      const listed: ConversationPage = await next;
      continuation = listed.continuationToken;
      next = continuation === undefined ? undefined : list(continuation);
      next?.catch(() => undefined);
      step.push(...listed.items);
      pagesInStep += 1;
    }
    const byTenant = new Map<string, StoredConversation[]>();
    for (const conversation of step) {
      const recipients = byTenant.get(conversation.tenantId) ?? [];
      recipients.push(conversation);
      byTenant.set(conversation.tenantId, recipients);
    }
    const pageNumber = plan.pages;
    await inParallel([...byTenant], 8, ([tenantId, recipients]) => deps.audience.write(id, tenantId, pageNumber, recipients));
    for (const tenantId of byTenant.keys()) {
      if (known.has(tenantId)) continue;
      // Enqueued before the work row exists, so a crash in between cannot leave a tenant without a work item
      // (a redone step finds no row and enqueues again; a duplicate message is harmless). A worker that
      // arrives before the row waits for it.
      if ((await deps.notifications.getWork(id, tenantId)) === undefined) {
        await deps.queues.enqueueDeliver({ id, tenantId });
        await deps.notifications.createWork(id, tenantId);
      }
      known.add(tenantId);
    }
    try {
      plan = await deps.notifications.savePlan(
        id,
        {
          ...(continuation === undefined ? {} : { continuation }),
          pages: plan.pages + pagesInStep,
          matched: plan.matched + step.length,
          done: continuation === undefined,
        },
        plan.etag,
      );
    } catch (error) {
      if (error instanceof StaleRecordError) return 'superseded';
      throw error;
    }
    if (!plan.done && Date.now() >= sliceEnd) {
      await deps.queues.enqueuePlan({ id });
      return 'continued';
    }
  }
  deps.logger.log(`Notification ${id}: planned, ${plan.matched} recipient(s) matched in ${plan.pages} page(s)`);
  // No tenant at all (nobody matched), or every tenant finished while the last pages were listed.
  await finishIfDone(deps, id);
  return 'planned';
}

async function inParallel<T>(items: readonly T[], limit: number, action: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await action(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
