import type { Clock } from '../clock';
import { TenantPace, type SendRecord, type TenantPaceOptions } from './tenantPace';

/** Teams' limits for one bot: per tenant, and per conversation. */
export interface RateLimits {
  readonly tenantPerSecond: number;
  readonly conversationPerSecond: number;
}

export interface RateLimiterOptions {
  /**
   * Fixed fraction of the limit we aim for (1: exactly the limit, 0.98: at most
   * 50 requests in any 1020 ms at send time). Without it the slack adapts to
   * the jitter seen (see `SpacingSlack`).
   */
  readonly headroom?: number;
  /** How the tenant's pace reacts to 429s (see TenantPace). */
  readonly pace?: TenantPaceOptions;
  /**
   * Extra pause spread over the first requests to a tenant without recent
   * traffic, and the margin its first window's sends are counted with. The
   * first requests of a run are slow to leave (cold code, new connections, a
   * busy start) and arrive bunched with the ones after, and the next window
   * counts from when they arrived: measured at a cold start, the 51st request
   * of a tenant arrived 972 ms after the first though it left 1,020 ms after
   * it. Costs about twice this once per tenant per run. Default 100 ms.
   */
  readonly warmupMs?: number;
}

/** A send that left the wire gate; report its answer with `RateLimiter.answered`. */
export interface WireSlot {
  readonly pace: TenantPace;
  readonly record: SendRecord;
}

/** A request waiting for its turn on the wire. */
interface Waiter {
  /** Undefined for a request that counts against the tenant only (its caller keeps its thread's limits). */
  readonly conversation: Lane | undefined;
  readonly go: (slot: WireSlot | undefined) => void;
  /** True once the request will not be sent after all: it leaves without taking a slot. */
  readonly cancelled: () => boolean;
}

/**
 * What the limiter knows about one tenant or one conversation.
 *
 * Two stages, so that timers firing late never add up into a lower rate, and
 * never let requests out in a bunch either:
 * - The scheduler reserves sends at the steady rate (`nextReserveAt`), keeping
 *   its planned cadence when it wakes up a little late.
 * - Right before the HTTP request is written, the request waits at the wire
 *   gate (`waitForWireSlot`), which lets it go only when the last `size`
 *   actual sends span at least `size` intervals (size = the per-second limit): that is the limit,
 *   measured on real send times. It also keeps consecutive sends 0.9 interval
 *   apart, so catching up after a stall is not a burst.
 *
 * A tenant's interval follows its pace (TenantPace: the channel's real limit,
 * found from its 429s), never faster than the ceiling from the settings. The
 * ceiling's window is `size` sends per 1000 ms plus a slack: the channel counts
 * a request when it arrives, and the network and our own event loop move
 * arrivals by a few tens of ms, so sends spaced exactly 1000/limit apart would
 * be refused now and then. The slack follows the spread of answer times.
 */
interface Lane {
  nextReserveAt: number;
  /** Actual send times, oldest first, at most `windowSize` of them. */
  readonly sent: number[];
  /**
   * What the gap to the next send counts from: the last send's time, or, when it was let out late
   * (its timer fired late), the time it was due, at most `forgivenLateness` of an interval earlier.
   */
  gapFrom: number;
  /** Tenants only: requests waiting at the wire gate, first come first served. */
  readonly waiters: Waiter[];
  pumping: boolean;
  /** Sends through the gate since the lane was created. */
  warmupSends: number;
  /** Tenants only. */
  readonly pace?: TenantPace;
}

const sweepEvery = 1_000;
/** The warm-up pause is spread over this many first requests. */
const warmupSends = 10;
/** The window log is capped, so a very high rate does not keep thousands of times per tenant. */
const maxWindowSize = 100;
const never = Number.NEGATIVE_INFINITY;
/** Catching up after a stall: consecutive sends at least this fraction of an interval apart. */
const minGapFactor = 0.9;
/**
 * A send that waited at the gate and went out late (a timer fires 1 ms late at best, tens of ms on
 * a busy machine) is followed as if it had gone when due, up to this fraction of an interval: timer
 * lateness does not add up into a slower pace (with the gap counted from the late send, a few ms of
 * lateness per send cost a tenant 10-20 % of its rate on a loaded machine). The window of the last
 * `size` actual send times still holds the limit; consecutive sends stay at least
 * (minGapFactor - forgivenLateness) of an interval apart.
 */
const forgivenLateness = 0.4;

/** How many answer times the slack is measured over, and its bounds. */
const spreadSamples = 64;
const minSlackMs = 20;
const maxSlackMs = 60;
/** Until enough answers were seen. */
const initialSlackMs = 30;
/** A tenant lane idle this long is dropped, whatever its pace remembers. */
const forgetIdleTenantMs = 60_000;

/**
 * Milliseconds added to each one-second window at the ceiling: the spread of
 * the last answer times, from the wire gate to the answer. That spread holds
 * the network's jitter and our event loop's delays, the two things that move a
 * request's arrival at the channel away from the moment we let it go; a slack
 * that large keeps our own pace from being refused. Measured robustly (the
 * 10th to 90th percentile, scaled to the whole range of a uniform spread), so
 * one stalled answer (a GC pause while it was read) does not slow the tenant.
 * Bounded to 20-60 ms: at most 6 % under the ceiling.
 */
class SpacingSlack {
  private readonly samples: number[] = [];
  private next = 0;
  private current = initialSlackMs;

  record(answerMs: number): void {
    if (this.samples.length < spreadSamples) this.samples.push(answerMs);
    else this.samples[this.next] = answerMs;
    this.next = (this.next + 1) % spreadSamples;
    // Re-measured every few answers: sorting on every answer would cost more than it tells.
    if (this.samples.length < spreadSamples / 4 || this.next % 8 !== 0) return;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (fraction: number): number => sorted[Math.floor(fraction * (sorted.length - 1))] ?? 0;
    const spread = (at(0.9) - at(0.1)) / 0.8;
    this.current = Math.min(maxSlackMs, Math.max(minSlackMs, spread));
  }

  get ms(): number {
    return this.current;
  }
}

/**
 * Keeps sends within Teams' limits per tenant and per conversation, and each
 * tenant within the pace its 429s show (TenantPace). One instance is shared by
 * every broadcast in the process: together they stay within the limits.
 */
export class RateLimiter {
  private readonly tenants = new Map<string, Lane>();
  private readonly conversations = new Map<string, Lane>();
  private readonly tenantWindowSize: number;
  private readonly conversationWindowSize: number;
  private readonly fixedSlackMs: number | undefined;
  private readonly slack = new SpacingSlack();
  private readonly warmupMs: number;
  private acquisitionsSinceSweep = 0;

  constructor(
    private readonly limits: RateLimits,
    private readonly clock: Clock,
    private readonly options: RateLimiterOptions = {},
  ) {
    this.fixedSlackMs = options.headroom === undefined ? undefined : 1_000 / options.headroom - 1_000;
    this.tenantWindowSize = windowSizeFor(limits.tenantPerSecond);
    this.conversationWindowSize = windowSizeFor(limits.conversationPerSecond);
    this.warmupMs = options.warmupMs ?? 100;
  }

  /** Earliest clock ms at which the scheduler may hand out a send to this tenant. */
  tenantReadyAt(tenantId: string): number {
    return this.tenants.get(tenantId)?.nextReserveAt ?? never;
  }

  /** Earliest clock ms at which the scheduler may hand out a send to this conversation. */
  conversationReadyAt(conversationKey: string): number {
    return this.conversations.get(conversationKey)?.nextReserveAt ?? never;
  }

  /** Reserves a send starting now; false (nothing reserved) when either limit says wait. */
  tryAcquire(tenantId: string, conversationKey: string): boolean {
    const now = this.clock.now();
    if (this.tenantReadyAt(tenantId) > now || this.conversationReadyAt(conversationKey) > now) return false;
    reserve(this.tenantLane(tenantId), now, 1_000 / this.tenantRate(tenantId));
    reserve(this.laneOf(this.conversations, conversationKey), now, 1_000 / this.conversationRate());
    this.sweepNowAndThen(now);
    return true;
  }

  /**
   * Waits for this request's turn on the wire; call right before the HTTP request is written.
   * Resolves with the slot to report the answer on (`answered`). A request for which
   * `cancelled()` is true when its turn comes is let go without being counted as a send
   * (resolves undefined; the caller must then not send it), so it takes no one's slot.
   * Without a conversation key the request counts against the tenant alone: a roster call or a
   * new chat, whose thread limits the caller keeps (audience/teamsCallGate.ts).
   */
  waitForWireSlot(tenantId: string, conversationKey: string | undefined, cancelled: () => boolean = () => false): Promise<WireSlot | undefined> {
    const tenant = this.tenantLane(tenantId);
    const conversation = conversationKey === undefined ? undefined : this.laneOf(this.conversations, conversationKey);
    return new Promise((go) => {
      tenant.waiters.push({ conversation, go, cancelled });
      if (!tenant.pumping) void this.pump(tenantId, tenant);
    });
  }

  /**
   * The channel answered the send of `slot`: `throttled` when with a 429. Answers that did not
   * come (timeout, network error) are not reported. Feeds the tenant's pace and the slack.
   */
  answered(slot: WireSlot, throttled: boolean): void {
    const now = this.clock.now();
    this.slack.record(now - slot.record.at);
    slot.pace.answered(slot.record, throttled, now);
  }

  /** Sends per second currently allowed for a tenant: its pace, within the ceiling less the slack. */
  tenantRate(tenantId: string): number {
    const pace = this.tenants.get(tenantId)?.pace;
    const ceiling = this.ceilingRate(this.limits.tenantPerSecond);
    return pace === undefined ? ceiling : Math.min(ceiling, pace.perSecond(this.clock.now()));
  }

  /** The limit the channel has shown for a tenant with a burst of 429s, if any. */
  knownTenantLimit(tenantId: string): number | undefined {
    return this.tenants.get(tenantId)?.pace?.knownLimit();
  }

  private conversationRate(): number {
    return this.ceilingRate(this.limits.conversationPerSecond);
  }

  /** `limit` sends per (1000 ms + slack). */
  private ceilingRate(limit: number): number {
    return (limit * 1_000) / (1_000 + (this.fixedSlackMs ?? this.slack.ms));
  }

  /** Lets the tenant's waiters out one by one, each as soon as both its windows allow. */
  private async pump(tenantId: string, tenant: Lane): Promise<void> {
    tenant.pumping = true;
    /** The waiter the gate last slept for: when it goes, it went late by however late the timer was. */
    let sleptFor: Waiter | undefined;
    for (let head = tenant.waiters[0]; head !== undefined; head = tenant.waiters[0]) {
      if (head.cancelled()) {
        tenant.waiters.shift();
        head.go(undefined);
        continue;
      }
      const now = this.clock.now();
      const tenantRate = this.tenantRate(tenantId);
      const ceilingRate = this.ceilingRate(this.limits.tenantPerSecond);
      const warmingUp = this.warmupMs > 0 && tenant.warmupSends < warmupSends;
      const warmup = warmingUp ? 1_000 / tenantRate + this.warmupMs / warmupSends : 0;
      const allowedAt = Math.max(
        wireAllowedAt(tenant, ceilingRate, this.tenantWindowSize, warmup),
        // The pace, when under the ceiling: floor(rate) sends per second, so never above the limit it found.
        tenantRate < ceilingRate ? wireAllowedAt(tenant, tenantRate, windowSizeFor(tenantRate), warmup) : never,
        head.conversation === undefined ? never : wireAllowedAt(head.conversation, this.conversationRate(), this.conversationWindowSize, 0),
      );
      if (allowedAt > now) {
        sleptFor = head;
        await this.clock.sleep(allowedAt - now);
        continue;
      }
      tenant.waiters.shift();
      const dueAt = sleptFor === head ? allowedAt : now;
      // The first window's sends count as if they left `warmupMs` later: the first requests of a run leave
      // late (cold code and connections, a busy start), and the next window is measured from their arrival.
      const countedAt = tenant.warmupSends < this.tenantWindowSize ? now + this.warmupMs : now;
      record(tenant, countedAt, this.tenantWindowSize, Math.max(dueAt, now - (forgivenLateness * 1_000) / tenantRate));
      if (head.conversation !== undefined) {
        record(head.conversation, now, this.conversationWindowSize, Math.max(dueAt, now - (forgivenLateness * 1_000) / this.conversationRate()));
      }
      tenant.warmupSends += 1;
      const pace = tenant.pace;
      head.go(pace === undefined ? undefined : { pace, record: pace.sent(now) });
    }
    tenant.pumping = false;
  }

  private tenantLane(tenantId: string): Lane {
    let lane = this.tenants.get(tenantId);
    if (lane === undefined) {
      lane = newLane(new TenantPace(this.limits.tenantPerSecond, this.clock.now(), this.options.pace));
      this.tenants.set(tenantId, lane);
    }
    return lane;
  }

  private laneOf(lanes: Map<string, Lane>, key: string): Lane {
    let lane = lanes.get(key);
    if (lane === undefined) {
      lane = newLane(undefined);
      lanes.set(key, lane);
    }
    return lane;
  }

  /** A run over 100,000 conversations must not leave 100,000 entries behind. */
  private sweepNowAndThen(now: number): void {
    if (++this.acquisitionsSinceSweep < sweepEvery) return;
    this.acquisitionsSinceSweep = 0;
    for (const lanes of [this.conversations, this.tenants]) {
      for (const [key, lane] of lanes) {
        const lastSent = lane.sent[lane.sent.length - 1] ?? never;
        const quiet = lane.waiters.length === 0 && Math.max(lane.nextReserveAt, lastSent + 2_000) <= now;
        // A tenant's pace remembers a limit, or is still climbing back: kept until long idle.
        const forgettable = lane.pace === undefined || lane.pace.isAtCeiling(now) || lastSent + forgetIdleTenantMs <= now;
        if (quiet && forgettable) lanes.delete(key);
      }
    }
  }
}

function newLane(pace: TenantPace | undefined): Lane {
  return { nextReserveAt: never, sent: [], gapFrom: never, waiters: [], pumping: false, warmupSends: 0, ...(pace !== undefined ? { pace } : {}) };
}

function windowSizeFor(perSecond: number): number {
  return Math.max(1, Math.min(maxWindowSize, Math.floor(perSecond)));
}

/**
 * When the next send may go: at most `size` sends per `size` intervals (1000 / rate), and most of an
 * interval (or the warm-up gap) after the last one.
 */
function wireAllowedAt(lane: Lane, perSecond: number, size: number, warmupMs: number): number {
  const intervalMs = 1_000 / perSecond;
  const last = lane.gapFrom;
  const oldestInWindow = lane.sent.length >= size ? (lane.sent[lane.sent.length - size] ?? never) : never;
  return Math.max(last + (warmupMs > 0 ? warmupMs : intervalMs * minGapFactor), oldestInWindow + size * intervalMs);
}

function record(lane: Lane, now: number, size: number, gapFrom: number): void {
  lane.gapFrom = gapFrom;
  lane.sent.push(now);
  if (lane.sent.length > size) lane.sent.shift();
}

/** How late the scheduler may be and still catch up on the slots it missed. */
const catchUpMs = 100;

/**
 * The scheduler waking up late (timers on a busy machine fire a few ms late, sometimes tens) keeps its
 * planned slots and catches up, so its lateness does not add up into a lower rate: the wire gate still
 * enforces the limit on actual send times, and lets a catch-up out only slightly faster than the rate.
 * Later than `catchUpMs` (or an interval, if longer), the tenant was idle: it starts afresh, no burst.
 */
function reserve(lane: Lane, now: number, intervalMs: number): void {
  const slot = now - lane.nextReserveAt <= Math.max(intervalMs, catchUpMs) ? lane.nextReserveAt : now;
  lane.nextReserveAt = slot + intervalMs;
}
