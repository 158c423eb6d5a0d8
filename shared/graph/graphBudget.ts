import type { Clock } from '../clock';

/**
 * The app's pace of Graph requests, per tenant, apart from the Bot Connector's (Graph's limits are its
 * own, counted per app per tenant). Each request counts once, and each request inside a $batch counts
 * on its own, as Graph counts them.
 *
 * Two rules:
 * - a steady rate (`perSecond`) with a burst of one second's worth, so a $batch of 20 goes at once;
 * - Retry-After: once Graph answers 429 with Retry-After for a tenant, nothing more goes to that tenant
 *   before that time, requests already waiting included (Graph counts the requests it refuses too, so
 *   sending more only prolongs the throttling).
 */
export class GraphBudget {
  private readonly tenants = new Map<string, TenantLane>();
  private readonly intervalMs: number;
  private readonly burstMs = 1_000;

  constructor(
    private readonly clock: Clock,
    readonly perSecond: number,
  ) {
    if (!(perSecond > 0)) throw new RangeError(`GraphBudget: perSecond must be positive, got ${perSecond}`);
    this.intervalMs = 1_000 / perSecond;
  }

  /** Waits until `count` requests may go to the tenant. */
  async take(tenantId: string, count: number): Promise<void> {
    const lane = this.lane(tenantId);
    const now = this.clock.now();
    // Generic cell rate: each request moves the tenant's theoretical time on by one interval; requests
    // may go when that time is at most one burst ahead of now.
    const start = Math.max(lane.theoreticalAt, now);
    lane.theoreticalAt = start + count * this.intervalMs;
    const goAt = lane.theoreticalAt - this.burstMs;
    for (;;) {
      const wait = Math.max(goAt, lane.pausedUntil) - this.clock.now();
      if (wait <= 0) return;
      await this.clock.sleep(wait);
    }
  }

  /** Graph asked for a pause (Retry-After): no request to this tenant starts within `ms` from now. */
  holdOff(tenantId: string, ms: number): void {
    const lane = this.lane(tenantId);
    lane.pausedUntil = Math.max(lane.pausedUntil, this.clock.now() + ms);
  }

  private lane(tenantId: string): TenantLane {
    let lane = this.tenants.get(tenantId);
    if (lane === undefined) {
      lane = { theoreticalAt: Number.NEGATIVE_INFINITY, pausedUntil: Number.NEGATIVE_INFINITY };
      this.tenants.set(tenantId, lane);
    }
    return lane;
  }
}

interface TenantLane {
  theoreticalAt: number;
  pausedUntil: number;
}
