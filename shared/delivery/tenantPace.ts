/**
 * How fast one tenant is sent to: the pace controller behind the rate limiter.
 *
 * The setting (NOTIFY_TENANT_RATE_PER_SECOND) is a ceiling; the channel's real
 * limit for a tenant may be lower, and it answers 429 for other reasons too
 * (a busy backend, a request that arrived a little early). So a 429 is
 * evidence, and the pace moves only as far as the evidence goes:
 *
 * - One 429, or a few scattered ones, say nothing about our pace: the
 *   recipient waits its Retry-After and is retried, the tenant's pace is kept.
 *   Random 429s at 10 % of requests therefore cost retries, not throughput.
 * - A burst (at least `burstThrottled` of the last `burstWindow` sends, in
 *   send order, answered 429) is what a full throttling window looks like:
 *   once the channel's one-second window is full, everything after is refused
 *   until it slides. The number of our sends it accepted in the second before
 *   the refused one (`admitted`) is then the channel's real limit, measured:
 *   the pace drops straight to `settleFactor` × that (not by a blind factor,
 *   so more 429s from the same burst do not compound), and that number is
 *   remembered as the tenant's known limit.
 * - With a known limit, the pace climbs back slowly once it is near it
 *   (`probePerSecond` of the limit per second, doubling every second since the
 *   last settle), to find out whether the limit has moved; a 429 that arrives
 *   once about as many as the known limit were accepted in a second confirms
 *   it and settles the pace again. That costs one or two 429s every 2-3 s,
 *   which is how the controller holds ~5 % under a real limit it was never
 *   told about, and still gets back to the ceiling in about 8 s from half of
 *   it once the limit is gone.
 * - Below that, and with no known limit, the pace recovers fast
 *   (`recoverPerSecond` of the ceiling per second: from half the ceiling back
 *   to it in about 5 s). A known limit is forgotten as soon as the channel
 *   accepts clearly more than it in one second.
 *
 * Why not a classic multiplicative decrease per 429: the channel's 429s do not
 * say whether our pace caused them. At 10 % random 429s, halving (or even
 * taking 5 % off) per 429 keeps the pace far under the ceiling, while a real
 * limit 40 % under the ceiling is hit by a third of all requests within a
 * second; telling the two apart by the shape of the 429s (bursts, and how many
 * were accepted before them) handles both.
 */

export interface TenantPaceOptions {
  /** The pace settles this fraction under a limit the channel showed. Default 0.94. */
  readonly settleFactor?: number;
  /** A burst: at least this many 429s... Default 5. */
  readonly burstThrottled?: number;
  /** ...among this many consecutive sends (ending at the one answered 429). Default 6. */
  readonly burstWindow?: number;
  /** Recovery without a known limit near: this fraction of the ceiling per second. Default 0.1. */
  readonly recoverPerSecond?: number;
  /** Climb near a known limit: this fraction of the limit per second. Default 0.02. */
  readonly probePerSecond?: number;
}

/** One send through the wire gate; the caller reports its answer with `TenantPace.answered`. */
export interface SendRecord {
  /** Clock ms when it left the wire gate. */
  readonly at: number;
  /** Undefined until answered (and for ever if it timed out or the network failed). */
  throttled: boolean | undefined;
}

/** What the sends of the second before a 429 show. */
interface Evidence {
  /** Sends in that second not answered 429 (those still unanswered included: they got in, or will be judged after). */
  readonly admitted: number;
  /** Whether the 429 ends a burst. */
  readonly burst: boolean;
}

const windowMs = 1_000;
/** How long sends are remembered: the second before a slow answer's send must still be there. */
const memoryMs = 5_000;
const maxRemembered = 2_000;
/** A known limit is confirmed by a 429 once this fraction of it was accepted in the second before. */
const confirmFraction = 0.95;
/** ...and forgotten once the channel accepted this much more than it in one second. */
const disproveFactor = 1.05;

export class TenantPace {
  private rate: number;
  private limit: number | undefined;
  private updatedAt: number;
  /** When the pace was last settled under the known limit: the probe speeds up from there. */
  private settledAt = Number.NEGATIVE_INFINITY;
  /** Send time of the latest send forgotten. */
  private forgottenUpTo = Number.NEGATIVE_INFINITY;
  /** Sends of the last `memoryMs`, in send order. */
  private readonly sends: SendRecord[] = [];
  private readonly settleFactor: number;
  private readonly burstThrottled: number;
  private readonly burstWindow: number;
  private readonly recoverPerSecond: number;
  private readonly probePerSecond: number;

  constructor(
    /** Sends per second never exceeded. */
    private readonly ceiling: number,
    now: number,
    options: TenantPaceOptions = {},
  ) {
    this.rate = ceiling;
    this.updatedAt = now;
    this.settleFactor = options.settleFactor ?? 0.94;
    this.burstThrottled = options.burstThrottled ?? 5;
    this.burstWindow = options.burstWindow ?? 6;
    this.recoverPerSecond = options.recoverPerSecond ?? 0.1;
    this.probePerSecond = options.probePerSecond ?? 0.02;
  }

  /** Sends per second allowed now (at most the ceiling). */
  perSecond(now: number): number {
    this.climb(now);
    return this.rate;
  }

  /** The limit the channel has shown for this tenant, if any. */
  knownLimit(): number | undefined {
    return this.limit;
  }

  /** Whether nothing is remembered that changes the pace: it can be dropped once idle. */
  isAtCeiling(now: number): boolean {
    return this.perSecond(now) >= this.ceiling && this.limit === undefined;
  }

  /** A send left the wire gate now. */
  sent(now: number): SendRecord {
    const record: SendRecord = { at: now, throttled: undefined };
    this.sends.push(record);
    const forgetBefore = now - memoryMs;
    let drop = 0;
    while (drop < this.sends.length && ((this.sends[drop]?.at ?? now) < forgetBefore || this.sends.length - drop > maxRemembered)) drop++;
    if (drop > 0) this.forgottenUpTo = this.sends.splice(0, drop).at(-1)?.at ?? this.forgottenUpTo;
    return record;
  }

  /** The channel answered a send: `throttled` when with a 429. */
  answered(record: SendRecord, throttled: boolean, now: number): void {
    record.throttled = throttled;
    const index = this.sends.lastIndexOf(record);
    if (throttled) {
      const evidence = index < 0 ? undefined : this.evidenceAt(index);
      if (evidence !== undefined) this.weigh(evidence, now);
    } else if (this.limit !== undefined && index >= 0 && this.admittedInSecondBefore(index) > this.limit * disproveFactor + 1) {
      this.limit = undefined; // the channel accepted clearly more than the limit we thought it had
    }
  }

  private weigh(evidence: Evidence, now: number): void {
    const confirmsLimit = this.limit !== undefined && evidence.admitted >= this.limit * confirmFraction;
    if (!evidence.burst && !confirmsLimit) return; // scattered: the recipient's retry is the whole cost
    this.climb(now);
    this.limit = Math.max(1, evidence.admitted);
    this.rate = Math.min(this.rate, Math.max(1, this.settleFactor * this.limit));
    this.settledAt = now;
  }

  /** The sends in the second up to `index` (by send time), and whether the last `burstWindow` of them are mostly 429s. */
  private evidenceAt(index: number): Evidence | undefined {
    const at = this.sends[index]?.at ?? 0;
    if (this.forgottenUpTo > at - windowMs) return undefined; // that second is no longer fully remembered
    let throttledInRun = 0;
    for (let i = index; i > index - this.burstWindow && i >= 0; i--) if (this.sends[i]?.throttled === true) throttledInRun++;
    return { admitted: this.admittedInSecondBefore(index), burst: throttledInRun >= this.burstThrottled };
  }

  private admittedInSecondBefore(index: number): number {
    const at = this.sends[index]?.at ?? 0;
    let admitted = 0;
    for (let i = index; i >= 0; i--) {
      const send = this.sends[i];
      if (send === undefined || send.at <= at - windowMs) break;
      if (send.throttled !== true) admitted++;
    }
    return admitted;
  }

  /**
   * Additive increase since the last update: fast up to near the known limit (or the ceiling), then
   * a probe that starts slowly and doubles its speed every second (never faster than the fast climb).
   */
  private climb(now: number): void {
    let seconds = Math.max(0, now - this.updatedAt) / 1_000;
    this.updatedAt = now;
    if (this.rate >= this.ceiling) return;
    const fast = this.recoverPerSecond * this.ceiling;
    const near = this.limit === undefined ? this.ceiling : Math.min(this.ceiling, this.settleFactor * this.limit);
    if (this.rate < near) {
      const toNear = Math.min(seconds, (near - this.rate) / fast);
      this.rate += fast * toNear;
      seconds -= toNear;
    }
    if (this.limit !== undefined && seconds > 0) {
      const doublings = Math.max(0, now - this.settledAt) / 1_000;
      this.rate += Math.min(fast, this.probePerSecond * this.limit * 2 ** doublings) * seconds;
    }
    this.rate = Math.min(this.ceiling, this.rate);
  }
}
