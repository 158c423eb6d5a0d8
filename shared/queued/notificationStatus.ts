import type { FailureRecord, NotificationRecord, NotificationState, PlanRecord, WorkRecord } from './notificationTable';

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
  engagement: EngagementCounts = { acknowledged: null, read: 0 },
): NotificationStatus {
  const sum = (pick: (item: WorkRecord) => number): number => work.reduce((total, item) => total + pick(item), 0);
  const sent = sum((item) => item.sent);
  const failed = sum((item) => item.failed);
  const alreadySent = sum((item) => item.alreadySent);
  const optedOut = sum((item) => item.optedOut);
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
    acknowledged: engagement.acknowledged,
    read: engagement.read,
    readCovers,
    pending: Math.max(0, listed - sent - failed - alreadySent - optedOut),
    createdAt: notification.createdAt.toISOString(),
    sendAt: notification.sendAt?.toISOString() ?? null,
    startedAt: notification.startedAt?.toISOString() ?? null,
    completedAt: notification.completedAt?.toISOString() ?? null,
    ...(notification.error !== undefined ? { error: notification.error } : poisoned.length > 0 ? { error: poisonedWorkError(poisoned) } : {}),
    failedWork: poisoned.map((item) => ({ tenantId: item.tenantId, error: item.error ?? 'failed', attempts: item.attempts })),
  };
}

/** Why a notification with poisoned work failed (also stored on it when it ends). */
export function poisonedWorkError(poisoned: readonly WorkRecord[]): string {
  return `${poisoned.length} tenant(s) could not be delivered: ${poisoned.map((item) => `"${item.tenantId}": ${item.error ?? 'failed'}`).join('; ')}`;
}
