/** Time as the delivery engine sees it: real in production, driven by hand in tests. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences mean anything). */
  now(): number;
  /** Resolves after `ms`; resolves early, without error, when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};

interface PendingSleep {
  readonly at: number;
  readonly resolve: () => void;
}

/**
 * A clock that only moves when told. `run(promise)` drives a whole async
 * computation: whenever nothing else can happen, time jumps to the next
 * sleeper, so a 200 s scenario runs in milliseconds and timing is exact.
 */
export class FakeClock implements Clock {
  private time: number;
  private sleepers: PendingSleep[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: PendingSleep = {
        at: this.time + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', cancel);
          resolve();
        },
      };
      const cancel = (): void => {
        this.sleepers = this.sleepers.filter((pending) => pending !== sleeper);
        resolve();
      };
      signal?.addEventListener('abort', cancel, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const next = this.earliest();
      if (next === undefined || next.at > target) break;
      this.wake(next);
    }
    this.time = target;
    await settle();
  }

  /** Runs `work` to completion, jumping time forward whenever everything else is waiting on it. */
  async run<T>(work: Promise<T>): Promise<T> {
    let finished = false;
    const tracked = work.finally(() => {
      finished = true;
    });
    tracked.catch(() => undefined);
    while (!finished) {
      await settle();
      if (finished) break;
      const next = this.earliest();
      if (next === undefined) throw new Error('FakeClock.run: the work is waiting on something other than the clock');
      this.wake(next);
    }
    return tracked;
  }

  private earliest(): PendingSleep | undefined {
    let first: PendingSleep | undefined;
    for (const sleeper of this.sleepers) if (first === undefined || sleeper.at < first.at) first = sleeper;
    return first;
  }

  private wake(sleeper: PendingSleep): void {
    this.sleepers = this.sleepers.filter((pending) => pending !== sleeper);
    this.time = Math.max(this.time, sleeper.at);
    sleeper.resolve();
  }
}

/** Lets every pending promise callback run (a few macrotask turns, as chains can be long). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
