import { expandStep, type ExpansionCursor, type ExpansionStep } from '../audience/audienceExpansion';
import { describeSource, type ResolvedSource } from '../audience/audienceSource';
import { onceEach } from '../audience/onceEach';
import type { PlannedRecipient } from '../audience/plannedRecipient';
import { GraphPermissionError } from '../graph/graphErrors';
import type { ConversationPage, StoredConversation } from '../storage/conversationStore';
import { StaleRecordError, terminalStates, type PlanRecord } from './notificationTable';
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
  | 'superseded'
  /** The audience could not be expanded for good (a missing Graph permission): the notification is `failed`, saying why. */
  | 'failed';

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
  const { audience } = notification.request;
  if (audience !== undefined) return planAudience(deps, id, audience, plan, { sliceEnd, known });
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
    const saved = await writeStep(deps, id, plan, known, step, { pages: pagesInStep, ...(continuation === undefined ? {} : { continuation }) });
    if (saved === 'superseded') return 'superseded';
    plan = saved;
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

/**
 * Writes one step's recipients into the audience table (one partition per
 * tenant), makes sure each tenant has its delivery work item, and saves the
 * checkpoint: where listing goes on, and how many were planned.
 */
async function writeStep(
  deps: QueuedDependencies,
  id: string,
  plan: PlanRecord,
  known: Set<string>,
  step: readonly PlannedRecipient[],
  progress: { readonly pages: number; readonly continuation?: string },
): Promise<PlanRecord | 'superseded'> {
  const byTenant = new Map<string, PlannedRecipient[]>();
  for (const recipient of step) {
    const recipients = byTenant.get(recipient.tenantId) ?? [];
    recipients.push(recipient);
    byTenant.set(recipient.tenantId, recipients);
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
    return await deps.notifications.savePlan(
      id,
      {
        ...(progress.continuation === undefined ? {} : { continuation: progress.continuation }),
        pages: plan.pages + progress.pages,
        matched: plan.matched + step.length,
        done: progress.continuation === undefined,
      },
      plan.etag,
    );
  } catch (error) {
    if (error instanceof StaleRecordError) return 'superseded';
    throw error;
  }
}

/**
 * Planning of a notification with `audience`: one source page per step
 * (expandStep), its checkpoint the cursor (source index, page token) as JSON.
 * Each step's recipients are made distinct within the step, then claimed
 * (PersonClaims) so that a person or conversation an earlier step planned is
 * left out; a redone step keeps what it claimed itself.
 */
async function planAudience(
  deps: QueuedDependencies,
  id: string,
  sources: readonly ResolvedSource[],
  start: PlanRecord,
  { sliceEnd, known }: { readonly sliceEnd: number; readonly known: Set<string> },
): Promise<PlanOutcome> {
  const { reach } = deps;
  const claiming = needsClaims(sources);
  let plan = start;
  while (!plan.done) {
    if ((await deps.notifications.stateOf(id)) === 'cancelled') return 'cancelled';
    const cursor: ExpansionCursor = plan.continuation === undefined ? { source: 0 } : (JSON.parse(plan.continuation) as ExpansionCursor);
    let step: ExpansionStep;
    try {
      step = await expandStep(sources, cursor, reach.readers);
    } catch (error) {
      if (error instanceof GraphPermissionError) return failPlanning(deps, id, `${describeSource(sources[cursor.source] as ResolvedSource)}: ${error.message}`);
      throw error;
    }
    const kept = await onceEach(step.recipients, claiming ? { claims: reach.claims, id, page: plan.pages } : undefined);
    const saved = await writeStep(deps, id, plan, known, kept, { pages: 1, ...(step.next === undefined ? {} : { continuation: JSON.stringify(step.next) }) });
    if (saved === 'superseded') return 'superseded';
    plan = saved;
    if (!plan.done && Date.now() >= sliceEnd) {
      await deps.queues.enqueuePlan({ id });
      return 'continued';
    }
  }
  deps.logger.log(`Notification ${id}: planned, ${plan.matched} recipient(s) from ${sources.length} audience source(s) in ${plan.pages} step(s)`);
  await finishIfDone(deps, id);
  return 'planned';
}

/** One source that cannot name anyone twice (a store listing, a team's channel or channels) needs no claims. */
function needsClaims(sources: readonly ResolvedSource[]): boolean {
  const [only] = sources;
  return !(sources.length === 1 && only !== undefined && (only.kind === 'stored' || (only.kind === 'team' && only.deliverTo !== 'members')));
}

/** Planning cannot go on (a permission to grant): the notification ends `failed` with the reason. */
async function failPlanning(deps: QueuedDependencies, id: string, error: string): Promise<PlanOutcome> {
  await deps.notifications.transition(id, 'failed', { completedAt: new Date(), error });
  deps.logger.error(`Notification ${id}: failed: ${error}`);
  return 'failed';
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
