// queued/: queued notifications (`/api/notifications`): the notifications and audience tables, the work
// queues, planning, per-tenant delivery under a lease, cancel and poison. May import notifications/,
// delivery/, ledgers/, storage/ and the root utilities.
import { randomUUID } from 'node:crypto';
import type { ResolvedSource } from '../audience/audienceSource';
import { requestFingerprint, type NotificationRequest } from '../notifications/notificationRequest';
import { TableUnavailableError } from '../storage/tableClient';
import type { Activity } from 'botbuilder';
import { deliverSlice, type DeliverOutcome } from './deliverer';
import { passSlice, startPass, type PassOutcome } from './ledgerPass';
import { RequestTooLargeError, StaleRecordError, type NotificationRecord, type NotificationState } from './notificationTable';
import { passPlanFor, recallPass, revisionPass } from './passActions';
import { remindPass, remindPlan, reminderOfPass } from './remindPass';
import { notificationStatus, type EngagementCounts, type NotificationListEntry, type NotificationStatus, type NotificationStatusWithFailures } from './notificationStatus';
import { planSlice, type PlanOutcome } from './planner';
import { removeExpiredNotifications, type RetentionOptions, type RetentionReport } from './retention';
import { finishIfDone, type QueuedDependencies } from './workContext';
import { WorkQueueUnavailableError, delayUntil, type DeliverMessage, type PlanMessage } from './workQueues';

export type SubmitOutcome =
  /** Queued now, or (`existing`) the same id and body were submitted before: either way, its current state. */
  | { readonly kind: 'accepted'; readonly id: string; readonly state: NotificationState; readonly existing: boolean; readonly sendAt?: Date }
  /** The id belongs to a notification with another message or target. */
  | { readonly kind: 'idReused'; readonly id: string }
  | { readonly kind: 'tooLarge'; readonly message: string }
  | { readonly kind: 'storageUnavailable'; readonly id: string; readonly message: string };

export type CancelOutcome =
  | { readonly kind: 'cancelled'; readonly status: NotificationStatus }
  /** Completed or failed before the cancel: nothing to stop. */
  | { readonly kind: 'alreadyEnded'; readonly status: NotificationStatus }
  | { readonly kind: 'notFound' };

export type EditOutcome =
  /** The message is replaced where it was delivered (a pass per tenant runs) and sent as edited from now on. */
  | { readonly kind: 'edited'; readonly status: NotificationStatus }
  /** Recalled, or cancelled before anything was delivered: there is nothing to edit. */
  | { readonly kind: 'notEditable'; readonly status: NotificationStatus }
  | { readonly kind: 'tooLarge'; readonly message: string }
  | { readonly kind: 'notFound' };

export type RecallOutcome =
  /** The send is stopped and the message is being deleted in every chat (`existing`: it was recalled before). */
  | { readonly kind: 'recalled'; readonly status: NotificationStatus; readonly existing: boolean }
  | { readonly kind: 'notFound' };

export type RemindOutcome =
  /** The reminder runs (`existing`: one with this id was started before). */
  | { readonly kind: 'reminding'; readonly reminderId: string; readonly existing: boolean; readonly status: NotificationStatus }
  /** The notification did not ask for acknowledgements: there is nobody to remind. */
  | { readonly kind: 'notAcknowledgeable' }
  | { readonly kind: 'recalled' }
  | { readonly kind: 'notFound' };

/** A reminder id when the request gave none: its time, then a random part (ids sort by when they were made). */
function newReminderId(): string {
  return `${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

/** Failures per page of `GET /api/notifications/{id}`. */
export const failuresPageSize = 100;

/**
 * A notification of any size, done by queue-triggered functions on any
 * number of instances:
 *
 *   POST → status row + plan message → planSlice (pages of references → audience
 *   rows + one delivery work item per tenant) → deliverSlice per tenant (under
 *   the tenant's lease, in batches through the delivery engine) → completed.
 *
 * Every step checkpoints in Table Storage and re-enqueues its continuation,
 * so nothing depends on one process staying alive.
 */
export class QueuedNotifications {
  constructor(readonly deps: QueuedDependencies) {}

  /**
   * Records the notification and enqueues its planning; a retried submission with the same id and body
   * changes nothing. `audience` is the request's audience resolved (resolveAudience), stored for the planner.
   */
  async submit(request: NotificationRequest, audience?: readonly ResolvedSource[]): Promise<SubmitOutcome> {
    const id = request.id ?? randomUUID();
    const fingerprint = requestFingerprint(request);
    const createdAt = new Date();
    try {
      const created = await this.deps.notifications.create({
        id,
        fingerprint,
        request: {
          activity: request.activity,
          ...(request.filter === undefined ? {} : { filter: request.filter }),
          ...(audience === undefined ? {} : { audience }),
          ...(request.acknowledge === undefined ? {} : { acknowledge: request.acknowledge }),
        },
        createdAt,
        ...(request.sendAt === undefined ? {} : { sendAt: request.sendAt }),
      });
      if (!created) {
        const existing = await this.deps.notifications.get(id);
        if (existing === undefined) throw new Error(`Notification ${id} exists and cannot be read`);
        if (existing.fingerprint !== fingerprint) return { kind: 'idReused', id };
        // A retried POST after one that failed half-way: list it and enqueue it again (a duplicate planner stops at the checkpoint).
        if (existing.state === 'queued' || existing.state === 'scheduled') {
          await this.deps.notifications.addToIndex(id, existing.createdAt);
          await this.deps.queues.enqueuePlan({ id }, delayUntil(existing.sendAt));
        }
        return { kind: 'accepted', id, state: existing.state, existing: true, ...(existing.sendAt === undefined ? {} : { sendAt: existing.sendAt }) };
      }
      await this.deps.notifications.addToIndex(id, createdAt);
      // A scheduled one is a plan message kept invisible until its time (queues allow 7 days): nothing polls for it.
      await this.deps.queues.enqueuePlan({ id }, delayUntil(request.sendAt));
      return request.sendAt === undefined
        ? { kind: 'accepted', id, state: 'queued', existing: false }
        : { kind: 'accepted', id, state: 'scheduled', existing: false, sendAt: request.sendAt };
    } catch (error) {
      if (error instanceof RequestTooLargeError) return { kind: 'tooLarge', message: error.message };
      if (error instanceof TableUnavailableError || error instanceof WorkQueueUnavailableError) {
        return { kind: 'storageUnavailable', id, message: error.message };
      }
      throw error;
    }
  }

  /** The progress and one page of failures, or undefined for an unknown id. */
  async status(id: string, failuresAfter?: string): Promise<NotificationStatusWithFailures | undefined> {
    const [status, page] = await Promise.all([this.summary(id), this.deps.notifications.listFailures(id, failuresPageSize, failuresAfter)]);
    if (status === undefined) return undefined;
    return { ...status, failures: page.failures, ...(page.next === undefined ? {} : { nextFailuresAfter: page.next }) };
  }

  /** Newest first. */
  async list(limit: number, after?: string): Promise<{ readonly notifications: NotificationListEntry[]; readonly nextAfter?: string }> {
    const page = await this.deps.notifications.list(limit, after);
    const statuses = await Promise.all(page.entries.map((entry) => this.summary(entry.id)));
    const notifications = statuses.filter((status): status is NotificationStatus => status !== undefined).map(({ content: _message, ...entry }) => entry);
    return page.next === undefined ? { notifications } : { notifications, nextAfter: page.next };
  }

  /** Marks it cancelled; every worker on every instance stops within a second or so of noticing. */
  async cancel(id: string): Promise<CancelOutcome> {
    // Work that has all ended is completed (or failed), not cancelled, even before its last worker said so.
    await finishIfDone(this.deps, id);
    const after = await this.deps.notifications.transition(id, 'cancelled', { completedAt: new Date() });
    if (after === undefined) return { kind: 'notFound' };
    const status = await this.summary(id);
    if (status === undefined) return { kind: 'notFound' };
    return after.state === 'cancelled' ? { kind: 'cancelled', status } : { kind: 'alreadyEnded', status };
  }

  /**
   * Replaces the notification's message: recipients not reached yet get the new one, and a pass per
   * tenant replaces it in every chat it was delivered to (ledgerPass.ts). Each edit is a revision;
   * an edit made while an earlier one is still being applied takes over from it.
   */
  async edit(id: string, activity: Partial<Activity>): Promise<EditOutcome> {
    for (;;) {
      const current = await this.deps.notifications.get(id);
      if (current === undefined) return { kind: 'notFound' };
      const before = await this.summary(id);
      if (before === undefined) return { kind: 'notFound' };
      if (!isEditable(current, before)) return { kind: 'notEditable', status: before };
      let revised: NotificationRecord;
      try {
        revised = await this.deps.notifications.revise(current, { ...current.request, activity });
      } catch (error) {
        if (error instanceof StaleRecordError) continue; // moved meanwhile (a transition, another edit): decide again
        if (error instanceof RequestTooLargeError) return { kind: 'tooLarge', message: error.message };
        throw error;
      }
      // Tenants planned later have sent nothing yet: their deliveries read the edited message.
      const tenants = (await this.deps.notifications.listWork(id)).map((work) => work.tenantId);
      await startPass(this.deps, id, revisionPass(revised.revision), tenants);
      this.deps.logger.log(`Notification ${id}: edited, revision ${revised.revision}, a pass for ${tenants.length} tenant(s)`);
      const status = await this.summary(id);
      return status === undefined ? { kind: 'notFound' } : { kind: 'edited', status };
    }
  }

  /**
   * Stops the send (as a cancel does) and deletes the message in every chat it was delivered to, a pass
   * per tenant. Calling it again is harmless: it starts again only the tenants whose pass has not ended.
   */
  /**
   * Sends the notification again, in the chats it was delivered to, to those who have not
   * acknowledged it: a pass per tenant (remindPass.ts). The same reminder id again changes nothing
   * (its pass goes on where it was); a new id is a new reminder.
   */
  async remind(id: string, reminderId: string = newReminderId()): Promise<RemindOutcome> {
    const notification = await this.deps.notifications.get(id);
    if (notification === undefined) return { kind: 'notFound' };
    if (notification.request.acknowledge === undefined) return { kind: 'notAcknowledgeable' };
    if (notification.state === 'recalled') return { kind: 'recalled' };
    const pass = remindPass(reminderId);
    const before = await this.deps.passes.list(id);
    const existing = before.some((record) => record.pass === pass);
    const tenants = (await this.deps.notifications.listWork(id)).map((work) => work.tenantId);
    await startPass(this.deps, id, pass, tenants);
    if (!existing) this.deps.logger.log(`Notification ${id}: reminder ${reminderId}, a pass for ${tenants.length} tenant(s)`);
    const status = await this.summary(id);
    return status === undefined ? { kind: 'notFound' } : { kind: 'reminding', reminderId, existing, status };
  }

  async recall(id: string): Promise<RecallOutcome> {
    const cancelled = await this.cancel(id);
    if (cancelled.kind === 'notFound') return { kind: 'notFound' };
    const after = await this.deps.notifications.transition(id, 'recalled', {}, ['completed', 'cancelled', 'failed']);
    if (after === undefined) return { kind: 'notFound' };
    const existing = cancelled.status.state === 'recalled';
    const tenants = (await this.deps.notifications.listWork(id)).map((work) => work.tenantId);
    await startPass(this.deps, id, recallPass, tenants);
    if (!existing) this.deps.logger.log(`Notification ${id}: recalled, a pass for ${tenants.length} tenant(s)`);
    const status = await this.summary(id);
    return status === undefined ? { kind: 'notFound' } : { kind: 'recalled', status, existing };
  }

  plan(message: PlanMessage): Promise<PlanOutcome> {
    return planSlice(this.deps, message);
  }

  /** A delivery slice, or a slice of a pass (edit, recall) when the message names one. */
  deliver(message: DeliverMessage): Promise<DeliverOutcome | PassOutcome> {
    const { pass } = message;
    if (pass !== undefined) {
      return passSlice(this.deps, { ...message, pass }, (notification, name) =>
        reminderOfPass(name) === undefined ? passPlanFor(this.deps, notification, name) : remindPlan(this.deps, notification, name),
      );
    }
    return deliverSlice(this.deps, message);
  }

  /** Retention: removes finished notifications older than the retention, within a bounded amount of work (see retention.ts). */
  removeExpired(options: RetentionOptions): Promise<RetentionReport> {
    return removeExpiredNotifications(this.deps, options);
  }

  /** A delivery run threw: its attempts and error show in the status while the queue retries it. */
  async noteFailedDelivery(message: DeliverMessage, dequeueCount: number, error: unknown): Promise<void> {
    if (message.pass !== undefined) await this.deps.passes.noteError(message.id, message.pass, message.tenantId, dequeueCount, errorMessage(error));
    else await this.deps.notifications.noteWorkError(message.id, message.tenantId, dequeueCount, errorMessage(error));
  }

  /** A delivery work item exhausted its retries (it is in the poison queue): the tenant's work fails, and so does the notification. */
  async deliveryPoisoned(message: DeliverMessage): Promise<void> {
    if (message.pass !== undefined) return this.passPoisoned({ ...message, pass: message.pass });
    for (let tries = 0; tries < 5; tries++) {
      const work = await this.deps.notifications.getWork(message.id, message.tenantId);
      if (work === undefined || work.state !== 'active') break;
      try {
        await this.deps.notifications.updateWork(message.id, work, { state: 'poisoned', error: work.error ?? 'the work item failed on every attempt' });
        break;
      } catch (error) {
        if (!(error instanceof StaleRecordError)) throw error;
      }
    }
    this.deps.logger.error(`Notification ${message.id}: the delivery work of tenant "${message.tenantId}" went to the poison queue`);
    await finishIfDone(this.deps, message.id);
  }

  /** Planning exhausted its retries: the notification fails (what was already delivered stays counted). */
  async planningPoisoned(message: PlanMessage): Promise<void> {
    const error = 'planning failed on every attempt (the plan message is in the poison queue; see the log for the errors)';
    const after = await this.deps.notifications.transition(message.id, 'failed', { completedAt: new Date(), error });
    if (after?.state === 'failed') this.deps.logger.error(`Notification ${message.id}: ${error}`);
  }

  /** A pass's work item exhausted its retries: the pass ends poisoned for that tenant (the status shows it); the notification keeps its state. */
  private async passPoisoned(message: DeliverMessage & { readonly pass: string }): Promise<void> {
    for (let tries = 0; tries < 5; tries++) {
      const record = await this.deps.passes.get(message.id, message.pass, message.tenantId);
      if (record === undefined || record.state !== 'active') break;
      try {
        await this.deps.passes.update(message.id, record, { state: 'poisoned', error: record.error ?? 'the pass failed on every attempt' });
        break;
      } catch (error) {
        if (!(error instanceof StaleRecordError)) throw error;
      }
    }
    this.deps.logger.error(`Notification ${message.id}: the pass "${message.pass}" of tenant "${message.tenantId}" went to the poison queue`);
  }

  private async summary(id: string): Promise<NotificationStatus | undefined> {
    const [notification, plan, work, passes] = await Promise.all([
      this.deps.notifications.get(id),
      this.deps.notifications.getPlan(id),
      this.deps.notifications.listWork(id),
      this.deps.passes.list(id),
    ]);
    if (notification === undefined) return undefined;
    const engagement = await this.engagementCounts(notification);
    const status = notificationStatus(notification, plan, work, passes, engagement);
    if (status.state === notification.state) return status;
    // Every piece of work has ended but no worker has written the final state yet: write it now, so the
    // answer carries completedAt and a cancel that follows finds the notification ended.
    await finishIfDone(this.deps, id);
    const finished = await this.deps.notifications.get(id);
    return finished === undefined ? status : notificationStatus(finished, plan, work, passes, engagement);
  }

  /** Two small reads (counter rows), whatever the audience: see engagement/countedRows.ts. */
  private async engagementCounts(notification: NotificationRecord): Promise<EngagementCounts> {
    const { acknowledgements, readReceipts } = this.deps;
    const [acknowledged, read] = await Promise.all([
      notification.request.acknowledge === undefined || acknowledgements === undefined ? null : acknowledgements.count(notification.id),
      readReceipts === undefined ? 0 : readReceipts.count(notification.id),
    ]);
    return { acknowledged: notification.request.acknowledge === undefined ? null : (acknowledged ?? 0), read };
  }
}

/** Anything that may have reached somebody, or may still, can be edited; a recalled one cannot. */
function isEditable(notification: NotificationRecord, status: NotificationStatus): boolean {
  if (notification.state === 'recalled') return false;
  if (notification.state === 'cancelled') return status.sent + status.alreadySent > 0;
  return true;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
