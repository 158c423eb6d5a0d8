import type { Clock } from '../clock';

/** At most `limit` requests in any `ms` milliseconds. */
export interface Window {
  readonly limit: number;
  readonly ms: number;
}

/**
 * Teams' per-thread limits for one bot (Learn, "Optimize your bot with rate limiting"): every
 * window holds at once. A thread is one conversation (sends, creating a 1:1 chat) or one team
 * (its roster).
 */
export const sendAndCreateWindows: readonly Window[] = [
  { limit: 7, ms: 1_000 },
  { limit: 8, ms: 2_000 },
  { limit: 60, ms: 30_000 },
  { limit: 1_800, ms: 3_600_000 },
];

export const rosterWindows: readonly Window[] = [
  { limit: 14, ms: 1_000 },
  { limit: 16, ms: 2_000 },
  { limit: 120, ms: 30_000 },
  { limit: 3_600, ms: 3_600_000 },
];

interface Thread {
  /** Times of the requests that went out, oldest first, as many as the largest window holds. */
  readonly sent: number[];
  /** The request holding the thread's turn: the next waits for it to go out (or give up). */
  turn: Promise<void>;
  waiting: number;
}

/**
 * Keeps each thread within its windows. Requests of one thread take turns: a request waits
 * until every window has room, then holds the thread until it actually goes out (the tenant's
 * wire gate may still hold it back) and is counted at that moment, so the windows hold on real
 * send times even when requests of one thread are started at once.
 */
export class ThreadWindows {
  private readonly threads = new Map<string, Thread>();
  private readonly longest: number;

  constructor(
    private readonly windows: readonly Window[],
    private readonly clock: Clock,
  ) {
    this.longest = Math.max(...windows.map((window) => window.limit));
  }

  /**
   * Waits for the thread's turn and room in its windows, then runs `goOut` (which resolves when
   * the request is let onto the wire) and counts the request at that moment. A rejection of
   * `goOut` (the request will not be sent) counts nothing.
   */
  async pass<T>(threadKey: string, goOut: () => Promise<T>): Promise<T> {
    const thread = this.threadOf(threadKey);
    const before = thread.turn;
    let release = (): void => undefined;
    thread.turn = new Promise((resolve) => (release = resolve));
    thread.waiting += 1;
    try {
      await before;
      for (let wait = this.waitFor(thread); wait > 0; wait = this.waitFor(thread)) await this.clock.sleep(wait);
      const result = await goOut();
      thread.sent.push(this.clock.now());
      if (thread.sent.length > this.longest) thread.sent.shift();
      return result;
    } finally {
      thread.waiting -= 1;
      release();
      this.forgetIfIdle(threadKey, thread);
    }
  }

  /** Milliseconds until every window has room (0: now). */
  private waitFor(thread: Thread): number {
    const now = this.clock.now();
    let until = now;
    for (const { limit, ms } of this.windows) {
      const oldestThatCounts = thread.sent.length >= limit ? thread.sent[thread.sent.length - limit] : undefined;
      if (oldestThatCounts !== undefined) until = Math.max(until, oldestThatCounts + ms);
    }
    return until - now;
  }

  private threadOf(key: string): Thread {
    let thread = this.threads.get(key);
    if (thread === undefined) {
      thread = { sent: [], turn: Promise.resolve(), waiting: 0 };
      this.threads.set(key, thread);
    }
    return thread;
  }

  /** A thread nobody waits on and whose longest window is over is forgotten: one roster a team, not one entry per call for ever. */
  private forgetIfIdle(key: string, thread: Thread): void {
    const last = thread.sent[thread.sent.length - 1];
    const longestMs = Math.max(...this.windows.map((window) => window.ms));
    if (thread.waiting === 0 && (last === undefined || last + longestMs <= this.clock.now())) this.threads.delete(key);
  }
}
