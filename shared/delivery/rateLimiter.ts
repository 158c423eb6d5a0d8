import type { Clock } from '../clock';

/** Teams' limits for one bot: per tenant, and per conversation. */
export interface RateLimits {
  readonly tenantPerSecond: number;
  readonly conversationPerSecond: number;
}

export interface RateLimiterOptions {
  /**
   * Fraction of the limit we aim for. The channel counts requests when they
   * arrive; the headroom absorbs the jitter between our send and its clock
   * (0.98: at most 50 requests in any 1020 ms at send time, so 20 ms of slack).
   */
  readonly headroom?: number;
  /** After a 429 the tenant's rate is multiplied by this... */
  readonly slowdownFactor?: number;
  /** ...for this long after the last 429, then it recovers fully. */
  readonly slowdownMs?: number;
  /**
   * Extra pause spread over the first requests to a tenant without recent
   * traffic. The first requests of a run are slow to leave (cold code, new
   * connections) and arrive bunched with the ones after; the pauses keep the
   * first seconds within the limit. Costs this much once per tenant per run.
   * Default 200 ms.
   */
  readonly warmupMs?: number;
}

/** A request waiting for its turn on the wire. */
interface Waiter {
  readonly conversation: Lane;
  readonly go: () => void;
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
 */
interface Lane {
  nextReserveAt: number;
  slowedUntil: number;
  /** Actual send times, oldest first, at most `windowSize` of them. */
  readonly sent: number[];
  /** Tenants only: requests waiting at the wire gate, first come first served. */
  readonly waiters: Waiter[];
  pumping: boolean;
  /** Sends through the gate since the lane was created (counted up to `warmupSends`). */
  warmupSends: number;
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
 * Keeps sends within Teams' limits per tenant and per conversation. One
 * instance is shared by every broadcast in the process: together they stay
 * within the limits.
 */
export class RateLimiter {
  private readonly tenants = new Map<string, Lane>();
  private readonly conversations = new Map<string, Lane>();
  private readonly tenantIntervalMs: number;
  private readonly conversationIntervalMs: number;
  private readonly tenantWindowSize: number;
  private readonly conversationWindowSize: number;
  private readonly slowdownFactor: number;
  private readonly slowdownMs: number;
  private readonly warmupMs: number;
  private acquisitionsSinceSweep = 0;

  constructor(
    limits: RateLimits,
    private readonly clock: Clock,
    options: RateLimiterOptions = {},
  ) {
    const headroom = options.headroom ?? 0.98;
    this.tenantIntervalMs = 1_000 / (limits.tenantPerSecond * headroom);
    this.conversationIntervalMs = 1_000 / (limits.conversationPerSecond * headroom);
    this.tenantWindowSize = windowSizeFor(limits.tenantPerSecond);
    this.conversationWindowSize = windowSizeFor(limits.conversationPerSecond);
    this.slowdownFactor = options.slowdownFactor ?? 0.5;
    this.slowdownMs = options.slowdownMs ?? 10_000;
    this.warmupMs = options.warmupMs ?? 200;
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
    reserve(this.laneOf(this.tenants, tenantId), now, this.tenantInterval(tenantId));
    reserve(this.laneOf(this.conversations, conversationKey), now, this.conversationIntervalMs);
    this.sweepNowAndThen(now);
    return true;
  }

  /**
   * Waits for this request's turn on the wire; call right before the HTTP request is written.
   * A request for which `cancelled()` is true when its turn comes is let go without being
   * counted as a send (the caller must then not send it), so it takes no one's slot.
   */
  waitForWireSlot(tenantId: string, conversationKey: string, cancelled: () => boolean = () => false): Promise<void> {
    const tenant = this.laneOf(this.tenants, tenantId);
    const conversation = this.laneOf(this.conversations, conversationKey);
    return new Promise((go) => {
      tenant.waiters.push({ conversation, go, cancelled });
      if (!tenant.pumping) void this.pump(tenantId, tenant);
    });
  }

  /** The channel throttled this tenant: send to it more slowly for a while. */
  throttled(tenantId: string): void {
    this.laneOf(this.tenants, tenantId).slowedUntil = this.clock.now() + this.slowdownMs;
  }

  /** Sends per second currently allowed for a tenant. */
  tenantRate(tenantId: string): number {
    return 1_000 / this.tenantInterval(tenantId);
  }

  /** Lets the tenant's waiters out one by one, each as soon as both its windows allow. */
  private async pump(tenantId: string, tenant: Lane): Promise<void> {
    tenant.pumping = true;
    for (let head = tenant.waiters[0]; head !== undefined; head = tenant.waiters[0]) {
      if (head.cancelled()) {
        tenant.waiters.shift();
        head.go();
        continue;
      }
      const tenantInterval = this.tenantInterval(tenantId);
      const warmingUp = this.warmupMs > 0 && tenant.warmupSends < warmupSends;
      const warmup = warmingUp ? tenantInterval + this.warmupMs / warmupSends : 0;
      const allowedAt = Math.max(
        wireAllowedAt(tenant, tenantInterval, this.tenantWindowSize, warmup),
        wireAllowedAt(head.conversation, this.conversationIntervalMs, this.conversationWindowSize, 0),
      );
      const now = this.clock.now();
      if (allowedAt > now) {
        await this.clock.sleep(allowedAt - now);
        continue;
      }
      tenant.waiters.shift();
      record(tenant, now, this.tenantWindowSize);
      record(head.conversation, now, this.conversationWindowSize);
      tenant.warmupSends += 1;
      head.go();
    }
    tenant.pumping = false;
  }

  private tenantInterval(tenantId: string): number {
    const slowed = this.clock.now() < (this.tenants.get(tenantId)?.slowedUntil ?? never);
    return slowed ? this.tenantIntervalMs / this.slowdownFactor : this.tenantIntervalMs;
  }

  private laneOf(lanes: Map<string, Lane>, key: string): Lane {
    let lane = lanes.get(key);
    if (lane === undefined) {
      lane = { nextReserveAt: never, slowedUntil: never, sent: [], waiters: [], pumping: false, warmupSends: 0 };
      lanes.set(key, lane);
    }
    return lane;
  }

  /** A run over 100,000 conversations must not leave 100,000 entries behind. */
  private sweepNowAndThen(now: number): void {
    if (++this.acquisitionsSinceSweep < sweepEvery) return;
    this.acquisitionsSinceSweep = 0;
    const idleFor = 2 * 1_000 / this.slowdownFactor;
    for (const lanes of [this.conversations, this.tenants]) {
      for (const [key, lane] of lanes) {
        const lastSent = lane.sent[lane.sent.length - 1] ?? never;
        const idle = lane.waiters.length === 0 && Math.max(lane.nextReserveAt, lane.slowedUntil, lastSent + idleFor) <= now;
        if (idle) lanes.delete(key);
      }
    }
  }
}

function windowSizeFor(perSecond: number): number {
  return Math.max(1, Math.min(maxWindowSize, Math.floor(perSecond)));
}

/** When the next send may go: `size` sends per `size` intervals, and most of an interval (or the warm-up gap) after the last one. */
function wireAllowedAt(lane: Lane, intervalMs: number, size: number, warmupMs: number): number {
  const last = lane.sent[lane.sent.length - 1] ?? never;
  const oldestInWindow = lane.sent.length >= size ? (lane.sent[lane.sent.length - size] ?? never) : never;
  return Math.max(last + (warmupMs > 0 ? warmupMs : intervalMs * minGapFactor), oldestInWindow + size * intervalMs);
}

function record(lane: Lane, now: number, size: number): void {
  lane.sent.push(now);
  if (lane.sent.length > size) lane.sent.shift();
}

/**
 * The scheduler waking up to an interval late keeps its planned slot, so its
 * lateness does not add up into a lower rate (the wire gate still enforces
 * the limit on actual send times).
 */
function reserve(lane: Lane, now: number, intervalMs: number): void {
  const slot = now - lane.nextReserveAt <= intervalMs ? lane.nextReserveAt : now;
  lane.nextReserveAt = slot + intervalMs;
}
