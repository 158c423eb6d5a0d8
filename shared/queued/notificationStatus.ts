import { messageContent, type MessageContent } from '../notifications/messageActivity';
import type { FailureRecord, NotificationRecord, NotificationState, PlanRecord, WorkRecord } from './notificationTable';
import { recallPass, reminderOfPass, revisionOfPass } from './passNames';
import type { PassRecord, PassState } from './passTable';

/** `GET /api/notifications/{id}` as JSON; also each entry of `GET /api/notifications` (without `failures`). */
export interface NotificationStatus {
  readonly id: string;
  readonly state: NotificationState;
  /** Known once planning has listed every reference; null before. */
  readonly matched: number | null;
  readonly sent: number;
  readonly failed: number;
  readonly pruned: number;
  readonly retried: number;
  readonly alreadySent: number;
  /** Skipped because they asked the bot to stop (their personal chats; group chats and channels are never skipped). */
  readonly optedOut: number;
  /** Not reached, by reason (audience sources): no such user or group, a guest, no app and installing not allowed or failed, blocked the bot. Not part of `failed`. */
  readonly notFound: number;
  readonly guest: number;
  readonly notInstalled: number;
  readonly blocked: number;
  /** People who pressed the acknowledge button (once each); null when the notification did not ask for acknowledgements. */
  readonly acknowledged: number | null;
  /** Deliveries seen by their recipient, as far as read receipts tell: see `readCovers`. */
  readonly read: number;
  readonly readCovers: typeof readCovers;
  /** Listed and not finished yet (while planning, of those listed so far); after a cancel, those never sent. */
  readonly pending: number;
  readonly createdAt: string;
  /** When a scheduled notification is (or was) sent; null for one sent at once. */
  readonly sendAt: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  /** Why the notification failed: work that exhausted its retries (poison queue), or planning that did. */
  readonly error?: string;
  /** Tenants whose delivery work ended in the poison queue. */
  readonly failedWork: readonly { readonly tenantId: string; readonly error: string; readonly attempts: number }[];
  /** 1 as sent; each edit adds one. Recipients reached from now on get this revision's message. */
  readonly revision: number;
  /**
   * The message as the latest revision reads: its `text` and/or `card`, as the request (or the last edit)
   * gave them, without the acknowledge button the sent message carries. Not in the list (`NotificationListEntry`).
   */
  readonly content: MessageContent;
  /** One entry per edit (revision 2 on), oldest first: how far replacing the message in the delivered chats got. */
  readonly revisions: readonly RevisionProgress[];
  /** Present once recalled: how far deleting the message in the delivered chats got. */
  readonly recall?: RecallProgress;
  /** One entry per reminder (`POST .../remind`), by id: how far sending it again to those who have not acknowledged got. */
  readonly reminders: readonly ReminderProgress[];
}

export interface ReminderProgress {
  readonly id: string;
  readonly state: Exclude<PassProgress['state'], 'superseded'>;
  /** Chats the reminder was sent to. */
  readonly reminded: number;
  /** Delivered chats left out: someone there had acknowledged (or the chat was already reminded, or recalled). */
  readonly acknowledged: number;
  readonly failed: number;
  readonly pending: number;
}

/** An entry of `GET /api/notifications`: the status without the message, which may be 100 KB. */
export type NotificationListEntry = Omit<NotificationStatus, 'content'>;

/** The progress of a pass over the delivered chats, summed over tenants. */
export interface PassProgress {
  /** `running` while any tenant's pass goes on; `failed` when one ended in the poison queue. */
  readonly state: 'running' | 'done' | 'superseded' | 'stopped' | 'failed';
  readonly failed: number;
  /**
   * Delivered chats the pass has not come to yet (an estimate while it runs: chats delivered after the
   * pass went by already show the latest message and are not counted again); 0 once it ended.
   */
  readonly pending: number;
}

export interface RevisionProgress extends PassProgress {
  readonly revision: number;
  /** Chats whose message was replaced by this revision. */
  readonly updated: number;
}

export interface RecallProgress extends PassProgress {
  /** Chats whose message was deleted. */
  readonly removed: number;
}

export interface NotificationStatusWithFailures extends NotificationStatus {
  /** One page of recipients not delivered; the next page is `?failuresAfter=<nextFailuresAfter>`. */
  readonly failures: readonly FailureRecord[];
  readonly nextFailuresAfter?: string;
}

/** What `read` counts: Teams sends read receipts for personal chats only, and only for people who have them on. */
export const readCovers = 'personal chats of people who have read receipts turned on';

/** What people did with the notification once it arrived (engagement/): counts kept beside their rows. */
export interface EngagementCounts {
  readonly acknowledged: number | null;
  readonly read: number;
}

/**
 * A notification's progress from its rows: counts are the sums of its
 * tenants' finished batches. The state is the stored one, except that a
 * notification whose every piece of work has ended reads as its final state
 * even before the last worker has written it.
 */
export function notificationStatus(
  notification: NotificationRecord,
  plan: PlanRecord | undefined,
  work: readonly WorkRecord[],
  passes: readonly PassRecord[] = [],
  engagement: EngagementCounts = { acknowledged: null, read: 0 },
): NotificationStatus {
  const sum = (pick: (item: WorkRecord) => number): number => work.reduce((total, item) => total + pick(item), 0);
  const sent = sum((item) => item.sent);
  const failed = sum((item) => item.failed);
  const alreadySent = sum((item) => item.alreadySent);
  const optedOut = sum((item) => item.optedOut);
  const unreached = { notFound: sum((item) => item.notFound), guest: sum((item) => item.guest), notInstalled: sum((item) => item.notInstalled), blocked: sum((item) => item.blocked) };
  const unreachedTotal = unreached.notFound + unreached.guest + unreached.notInstalled + unreached.blocked;
  const listed = plan?.matched ?? 0;
  const poisoned = work.filter((item) => item.state === 'poisoned');
  let state = notification.state;
  const allEnded = plan?.done === true && work.every((item) => item.state !== 'active');
  if ((state === 'queued' || state === 'running') && allEnded) state = poisoned.length > 0 ? 'failed' : 'completed';
  return {
    id: notification.id,
    state,
    matched: plan?.done === true ? plan.matched : null,
    sent,
    failed,
    pruned: sum((item) => item.pruned),
    retried: sum((item) => item.retried),
    alreadySent,
    optedOut,
    ...unreached,
    acknowledged: engagement.acknowledged,
    read: engagement.read,
    readCovers,
    pending: Math.max(0, listed - sent - failed - alreadySent - optedOut - unreachedTotal),
    createdAt: notification.createdAt.toISOString(),
    sendAt: notification.sendAt?.toISOString() ?? null,
    startedAt: notification.startedAt?.toISOString() ?? null,
    completedAt: notification.completedAt?.toISOString() ?? null,
    ...(notification.error !== undefined ? { error: notification.error } : poisoned.length > 0 ? { error: poisonedWorkError(poisoned) } : {}),
    failedWork: poisoned.map((item) => ({ tenantId: item.tenantId, error: item.error ?? 'failed', attempts: item.attempts })),
    ...passProgress(notification.revision, work, passes),
    content: messageContent(notification.request.activity),
    reminders: reminderProgress(work, passes),
  };
}

function reminderProgress(work: readonly WorkRecord[], passes: readonly PassRecord[]): ReminderProgress[] {
  const deliveredIn = new Map(work.map((item) => [item.tenantId, item.sent + item.alreadySent]));
  const byReminder = new Map<string, PassRecord[]>();
  for (const record of passes) {
    const id = reminderOfPass(record.pass);
    if (id !== undefined) byReminder.set(id, [...(byReminder.get(id) ?? []), record]);
  }
  return [...byReminder].map(([id, records]) => {
    const { done, state, ...progress } = summed(records, deliveredIn);
    return { id, state: state === 'superseded' ? 'done' : state, reminded: done, acknowledged: records.reduce((total, record) => total + record.unchanged, 0), ...progress };
  });
}

function passProgress(revision: number, work: readonly WorkRecord[], passes: readonly PassRecord[]): Pick<NotificationStatus, 'revision' | 'revisions' | 'recall'> {
  const deliveredIn = new Map(work.map((item) => [item.tenantId, item.sent + item.alreadySent]));
  const byPass = new Map<string, PassRecord[]>();
  for (const record of passes) byPass.set(record.pass, [...(byPass.get(record.pass) ?? []), record]);
  const revisions: RevisionProgress[] = [];
  for (const [pass, records] of byPass) {
    const number = revisionOfPass(pass);
    if (number === undefined) continue;
    const { done, ...progress } = summed(records, deliveredIn);
    revisions.push({ revision: number, updated: done, ...progress });
  }
  revisions.sort((a, b) => a.revision - b.revision);
  const recall = byPass.get(recallPass);
  if (recall === undefined) return { revision, revisions };
  const { done, ...progress } = summed(recall, deliveredIn);
  return { revision, revisions, recall: { removed: done, ...progress } };
}

function summed(records: readonly PassRecord[], deliveredIn: ReadonlyMap<string, number>): PassProgress & { readonly done: number } {
  let done = 0;
  let failed = 0;
  let pending = 0;
  for (const record of records) {
    done += record.done;
    failed += record.failed;
    if (record.state === 'active') pending += Math.max(0, (deliveredIn.get(record.tenantId) ?? 0) - record.done - record.failed - record.unchanged);
  }
  return { state: passState(records.map((record) => record.state)), done, failed, pending };
}

function passState(states: readonly PassState[]): PassProgress['state'] {
  if (states.includes('active')) return 'running';
  if (states.includes('poisoned')) return 'failed';
  if (states.includes('cancelled')) return 'stopped';
  if (states.length > 0 && states.every((state) => state === 'superseded')) return 'superseded';
  return 'done';
}

/** Why a notification with poisoned work failed (also stored on it when it ends). */
export function poisonedWorkError(poisoned: readonly WorkRecord[]): string {
  return `${poisoned.length} tenant(s) could not be delivered: ${poisoned.map((item) => `"${item.tenantId}": ${item.error ?? 'failed'}`).join('; ')}`;
}
