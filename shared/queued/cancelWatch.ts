import type { NotificationState } from './notificationTable';

/**
 * Cancellation as a running worker sees it: the notification's state,
 * polled once per interval per process however many workers of this process
 * work on it, turned into an AbortSignal. A DELETE on any instance reaches
 * every instance's workers within one interval.
 */
export class CancelWatch {
  private readonly watched = new Map<string, { readonly controller: AbortController; readonly timer: ReturnType<typeof setInterval>; users: number }>();

  constructor(
    private readonly stateOf: (id: string) => Promise<NotificationState | undefined>,
    private readonly intervalMs = 1_000,
  ) {}

  /** A signal that aborts once the notification is cancelled; call `stop` when done with it. */
  watch(id: string): { readonly signal: AbortSignal; stop(): void } {
    let entry = this.watched.get(id);
    if (entry === undefined) {
      const controller = new AbortController();
      let polling = false;
      const timer = setInterval(() => {
        if (polling || controller.signal.aborted) return;
        polling = true;
        this.stateOf(id)
          .then((state) => {
            if (state === 'cancelled' || state === 'recalled') controller.abort(new Error(`the notification was ${state}`));
          })
          // A failed poll is retried next interval; storage trouble shows in the work itself.
          .catch(() => undefined)
          .finally(() => {
            polling = false;
          });
      }, this.intervalMs);
      timer.unref();
      entry = { controller, timer, users: 0 };
      this.watched.set(id, entry);
    }
    entry.users += 1;
    const watched = entry;
    let stopped = false;
    return {
      signal: watched.controller.signal,
      stop: () => {
        if (stopped) return;
        stopped = true;
        watched.users -= 1;
        if (watched.users === 0) {
          clearInterval(watched.timer);
          this.watched.delete(id);
        }
      },
    };
  }
}
