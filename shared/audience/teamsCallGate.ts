// audience/: who a notification reaches beyond the stored conversations: teams' rosters and
// channels, personal chats created for people. May import delivery/, bot/, graph/, ledgers/,
// storage/ and the root utilities; imported by queued/.
import type { Clock } from '../clock';
import { classifyDeliveryError } from '../delivery/deliveryError';
import type { SendOptions } from '../delivery/proactiveSender';
import type { RateLimiter, WireSlot } from '../delivery/rateLimiter';
import { defaultBackoff, retryDelay, type BackoffOptions } from '../delivery/retryPolicy';
import { ThreadWindows, rosterWindows, sendAndCreateWindows } from '../delivery/threadWindows';

/** Which of Teams' per-thread limits a call counts against. */
export type TeamsCallKind = 'roster' | 'create';

export interface TeamsCallGateOptions {
  /** The process's one limiter: the same tenant budget as proactive sends. */
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  /** Attempts of one call, the first included (NOTIFY_MAX_ATTEMPTS, as for sends). */
  readonly maxAttempts: number;
  readonly backoff?: BackoffOptions;
}

/** Who a call is for: its tenant's budget, and its thread (the team for a roster, the person for a new chat). */
export interface TeamsCallTarget {
  readonly kind: TeamsCallKind;
  readonly tenantId: string;
  readonly threadKey: string;
}

/**
 * Rate control for the connector calls that are not sends: each attempt waits for its thread's
 * windows (roster 14/1 s, 16/2 s, 120/30 s, 3,600/h; creating a chat 7/1 s, 8/2 s, 60/30 s,
 * 1,800/h) and then for the tenant's wire gate, the same one sends go through, so together they
 * stay within the tenant's requests per second. Throttling, server errors and network failures are
 * tried again (Retry-After honoured, else backoff), as sends are; anything else is thrown to the caller.
 */
export class TeamsCallGate {
  private readonly windows: Readonly<Record<TeamsCallKind, ThreadWindows>>;

  constructor(private readonly options: TeamsCallGateOptions) {
    this.windows = {
      roster: new ThreadWindows(rosterWindows, options.clock),
      create: new ThreadWindows(sendAndCreateWindows, options.clock),
    };
  }

  /** Runs `attempt` until it succeeds, fails for good or runs out of attempts. */
  async call<T>(target: TeamsCallTarget, attempt: (options: SendOptions) => Promise<T>): Promise<T> {
    for (let attempts = 1; ; attempts++) {
      let slot: WireSlot | undefined;
      const beforeWire = async (signal: AbortSignal): Promise<void> => {
        slot = await this.wireSlot(target, signal);
      };
      try {
        const result = await attempt({ beforeWire });
        if (slot !== undefined) this.options.rateLimiter.answered(slot, false);
        return result;
      } catch (error) {
        const failure = classifyDeliveryError(error);
        if (slot !== undefined && failure.status !== undefined) this.options.rateLimiter.answered(slot, failure.status === 429);
        if (failure.kind !== 'retryable' || attempts >= this.options.maxAttempts) throw error;
        await this.options.clock.sleep(retryDelay(attempts, failure.retryAfterMs, this.options.backoff ?? defaultBackoff));
      }
    }
  }

  /**
   * One request's way onto the wire, for a caller that retries itself (the delivery engine):
   * the thread's windows, then the tenant's gate. Resolves with the tenant's slot, to report the
   * answer on (`RateLimiter.answered`).
   */
  wireSlot(target: TeamsCallTarget, signal?: AbortSignal): Promise<WireSlot | undefined> {
    // The thread's limits are the windows' here; the limiter counts the call in the tenant's budget only.
    return this.windows[target.kind].pass(target.threadKey, () =>
      this.options.rateLimiter.waitForWireSlot(target.tenantId, undefined, () => signal?.aborted === true),
    );
  }
}
