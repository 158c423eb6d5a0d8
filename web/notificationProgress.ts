import type { NotificationStatus } from './notificationApi';

/**
 * How far a notification has got, for the progress bar: recipients done
 * (sent, failed, or skipped as already sent or opted out) over those matched. Unknown while
 * planning has not finished counting the audience.
 */
export type Progress =
  | { readonly known: false }
  | { readonly known: true; readonly done: number; readonly matched: number; readonly percent: number };

export function progressOf(status: NotificationStatus): Progress {
  const matched = status.matched;
  if (typeof matched !== 'number') return { known: false };
  const done = Math.min(matched, status.sent + status.failed + status.alreadySent + (status.optedOut ?? 0));
  const percent = matched === 0 ? (status.state === 'queued' || status.state === 'running' ? 0 : 100) : Math.floor((100 * done) / matched);
  return { known: true, done, matched, percent };
}

/** Pending recipients as the API says, or as the counts imply. */
export function pendingOf(status: NotificationStatus): number | undefined {
  if (typeof status.pending === 'number') return status.pending;
  const progress = progressOf(status);
  return progress.known ? progress.matched - progress.done : undefined;
}
