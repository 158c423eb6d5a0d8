import type { Clock } from './clock';

/** Teams' limits for one bot: per tenant, and per conversation. */
export interface RateLimits {
  readonly tenantPerSecond: number;
  readonly conversationPerSecond: number;
}

export interface RateLimiterOptions {
  /**
   * Fraction of the limit we aim for. The channel counts requests when they
   * arrive; a little headroom absorbs the jitter between our wire slot and
   * its clock (0.98 at 50/s leaves 20 ms per second of slack).
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

/**
 * Two times per tenant (and per conversation), one interval (1000 / rate) apart per send:
 * - `nextReserveAt`: when the scheduler may hand out the next send (`tryAcquire`).
 * - `nextWireAt`: when the next request may actually go out (`waitForWireSlot`, called
 *   by the sender right before the HTTP request is written).
 * The wire slots are what keep every one-second window within the limit: a send
 * delayed on its way out (cold start, GC, connection setup) pushes the next ones
 * back instead of arriving in a bunch.
 */
interface Lane {
  nextReserveAt: number;
  nextWireAt: number;
  slowedUntil: number;
  /** Requests sent since the lane was created (counted up to `warmupSends`). */
  warmupSends: number;
}

const sweepEvery = 1_000;
/** Lateness of a timer that still counts as on time (keeps the rate up without bunching requests). */
const wireCatchUpMs = 5;
/** The warm-up pause is spread over this many first requests. */
const warmupSends = 10;

/**
 * Spaces sends evenly per tenant and per conversation. One instance is shared
 * by every broadcast in the process: together they stay within Teams' limits.
 */
export class RateLimiter {
  private readonly tenants = new Map<string, Lane>();
  private readonly conversations = new Map<string, Lane>();
  private readonly tenantIntervalMs: number;
  private readonly conversationIntervalMs: number;
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
    this.slowdownFactor = options.slowdownFactor ?? 0.5;
    this.slowdownMs = options.slowdownMs ?? 10_000;
    this.warmupMs = options.warmupMs ?? 200;
  }

  /** Earliest clock ms at which the scheduler may hand out a send to this tenant. */
  tenantReadyAt(tenantId: string): number {
    return readyAt(this.tenants.get(tenantId), this.tenantInterval(tenantId));
  }

  /** Earliest clock ms at which the scheduler may hand out a send to this conversation. */
  conversationReadyAt(conversationKey: string): number {
    return readyAt(this.conversations.get(conversationKey), this.conversationIntervalMs);
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
   * Waits for this request's turn on the wire; call right before the HTTP request is sent.
   * Woken more than `wireCatchUpMs` late (a busy event loop), the slot is re-planned
   * from the actual time, so waiters released together never go out in a bunch.
   */
  async waitForWireSlot(tenantId: string, conversationKey: string): Promise<void> {
    const tenant = this.laneOf(this.tenants, tenantId);
    const conversation = this.laneOf(this.conversations, conversationKey);
    for (;;) {
      const now = this.clock.now();
      const slot = Math.max(tenant.nextWireAt, conversation.nextWireAt);
      if (slot <= now) {
        const sentAt = startOf(slot, now, wireCatchUpMs);
        const warmup = tenant.warmupSends < warmupSends ? this.warmupMs / warmupSends : 0;
        tenant.warmupSends += 1;
        tenant.nextWireAt = sentAt + this.tenantInterval(tenantId) + warmup;
        conversation.nextWireAt = sentAt + this.conversationIntervalMs;
        return;
      }
      await this.clock.sleep(slot - now);
    }
  }

  /** The channel throttled this tenant: send to it more slowly for a while. */
  throttled(tenantId: string): void {
    this.laneOf(this.tenants, tenantId).slowedUntil = this.clock.now() + this.slowdownMs;
  }

  /** Sends per second currently allowed for a tenant. */
  tenantRate(tenantId: string): number {
    return 1_000 / this.tenantInterval(tenantId);
  }

  private tenantInterval(tenantId: string): number {
    const slowed = this.clock.now() < (this.tenants.get(tenantId)?.slowedUntil ?? Number.NEGATIVE_INFINITY);
    return slowed ? this.tenantIntervalMs / this.slowdownFactor : this.tenantIntervalMs;
  }

  private laneOf(lanes: Map<string, Lane>, key: string): Lane {
    let lane = lanes.get(key);
    if (lane === undefined) {
      const never = Number.NEGATIVE_INFINITY;
      lane = { nextReserveAt: never, nextWireAt: never, slowedUntil: never, warmupSends: 0 };
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
        if (Math.max(lane.nextReserveAt, lane.nextWireAt, lane.slowedUntil) <= now) lanes.delete(key);
      }
    }
  }
}

/**
 * The scheduler may run at most one send ahead of the wire, so requests do
 * not pile up (holding concurrency slots) behind a delayed one.
 */
function readyAt(lane: Lane | undefined, intervalMs: number): number {
  if (lane === undefined) return Number.NEGATIVE_INFINITY;
  return Math.max(lane.nextReserveAt, lane.nextWireAt - intervalMs);
}

/**
 * The scheduler waking up to an interval late keeps its planned slot, so its
 * lateness does not add up into a lower rate (the wire slots still space the
 * requests themselves).
 */
function reserve(lane: Lane, now: number, intervalMs: number): void {
  lane.nextReserveAt = startOf(lane.nextReserveAt, now, intervalMs) + intervalMs;
}

/** When a send due at `slot` counts as started: on plan if at most `toleranceMs` late, else now. */
function startOf(slot: number, now: number, toleranceMs: number): number {
  return now - slot <= toleranceMs ? slot : now;
}
