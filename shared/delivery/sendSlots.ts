/**
 * How many sends may be in flight at once in this process (NOTIFY_CONCURRENCY),
 * shared by /api/notify runs and the batches of queued notifications (up to 24
 * at once per instance) together, as the keep-alive agent's sockets are.
 *
 * A slot is held from the request until its delivery is recorded in the
 * ledger. Releasing it at the answer was measured 15 % slower on an
 * unthrottled run (more work in flight at once on a CPU-bound process), so
 * the default leaves room for the write instead.
 *
 * A run that finds no slot free asks to be woken; each freed slot wakes the
 * run that has waited longest, and a run woken with nothing to send passes
 * the slot on, so a free slot never sits idle while another run waits for one.
 */
export class SendSlots {
  private inUse = 0;
  /** Runs waiting for a slot, longest first. */
  private readonly waiting = new Set<() => void>();

  constructor(readonly size: number) {}

  available(): boolean {
    return this.inUse < this.size;
  }

  take(): void {
    this.inUse += 1;
  }

  release(): void {
    this.inUse -= 1;
    this.wakeNext();
  }

  /** `wake` is called once, when a slot is free for it. */
  waitForFree(wake: () => void): void {
    this.waiting.add(wake);
  }

  /** Hands a free slot to the run that has waited longest (a run that cannot use it passes it on the same way). */
  wakeNext(): void {
    if (!this.available()) return;
    const [next] = this.waiting;
    if (next === undefined) return;
    this.waiting.delete(next);
    next();
  }
}
