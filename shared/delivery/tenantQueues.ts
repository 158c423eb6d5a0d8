import type { StoredConversation } from '../storage/conversationStore';
import type { DeliveryFailure } from './deliveryError';
import type { RateLimiter } from './rateLimiter';
import type { PersonRecipient } from './broadcastTypes';

/** One recipient of a broadcast while it is being worked on. */
export interface PendingDelivery {
  /** For a person, their personal chat once found or opened (a placeholder keyed by the person until then). */
  conversation: StoredConversation;
  /** What the rate limiter counts per conversation. */
  conversationKey: string;
  /** Set for a person whose personal chat is still to be found or opened. */
  person?: PersonRecipient;
  /** People: what the ledger records them under (their placeholder), whichever chat reached them. */
  ledgerKey?: StoredConversation;
  attempts: number;
  /** Clock ms before which a retry must not start. */
  notBefore: number;
  /** Why the previous attempt failed, while waiting for a retry. */
  lastFailure?: DeliveryFailure;
}

interface TenantQueue {
  /** Never attempted, in listing order. */
  readonly fresh: PendingDelivery[];
  /** Waiting for their retry time. */
  readonly retries: PendingDelivery[];
}

/**
 * Recipients waiting to be sent, one queue per tenant, so a tenant that is at
 * its rate limit never holds up the others. Tenants take turns: after a
 * tenant's send it goes to the back of the line.
 */
export class TenantQueues {
  private readonly queues = new Map<string, TenantQueue>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(delivery: PendingDelivery): void {
    this.queueOf(delivery.conversation.tenantId).fresh.push(delivery);
    this.count += 1;
  }

  addRetry(delivery: PendingDelivery): void {
    this.queueOf(delivery.conversation.tenantId).retries.push(delivery);
    this.count += 1;
  }

  /** The next delivery whose tenant, conversation and retry time all allow a send now, with its rate slot claimed. */
  takeReady(now: number, limiter: RateLimiter): PendingDelivery | undefined {
    for (const [tenantId, queue] of this.queues) {
      if (limiter.tenantReadyAt(tenantId) > now) continue;
      const index = readyIndex(queue, now, limiter);
      if (index === undefined) continue;
      const list = index.retry ? queue.retries : queue.fresh;
      const delivery = list[index.at];
      if (delivery === undefined || !limiter.tryAcquire(tenantId, delivery.conversationKey)) continue;
      list.splice(index.at, 1);
      this.count -= 1;
      this.queues.delete(tenantId); // to the back of the line (Map keeps insertion order)
      if (queue.fresh.length + queue.retries.length > 0) this.queues.set(tenantId, queue);
      return delivery;
    }
    return undefined;
  }

  /** Earliest clock ms at which `takeReady` could return something; undefined when empty. */
  nextReadyAt(limiter: RateLimiter): number | undefined {
    let earliest: number | undefined;
    for (const [tenantId, queue] of this.queues) {
      // Plain loops: this runs on every wake-up of the dispatcher, over every tenant.
      let itemReadyAt = queue.fresh[0] === undefined ? Number.POSITIVE_INFINITY : readyAt(queue.fresh[0], limiter);
      for (const delivery of queue.retries) itemReadyAt = Math.min(itemReadyAt, readyAt(delivery, limiter));
      const at = Math.max(limiter.tenantReadyAt(tenantId), itemReadyAt);
      if (earliest === undefined || at < earliest) earliest = at;
    }
    return earliest;
  }

  /** Empties every queue, returning what was in them. */
  drain(): { readonly fresh: PendingDelivery[]; readonly retries: PendingDelivery[] } {
    const fresh: PendingDelivery[] = [];
    const retries: PendingDelivery[] = [];
    for (const queue of this.queues.values()) {
      fresh.push(...queue.fresh);
      retries.push(...queue.retries);
    }
    this.queues.clear();
    this.count = 0;
    return { fresh, retries };
  }

  private queueOf(tenantId: string): TenantQueue {
    let queue = this.queues.get(tenantId);
    if (queue === undefined) {
      queue = { fresh: [], retries: [] };
      this.queues.set(tenantId, queue);
    }
    return queue;
  }
}

function readyAt(delivery: PendingDelivery, limiter: RateLimiter): number {
  return Math.max(delivery.notBefore, limiter.conversationReadyAt(delivery.conversationKey));
}

/** Retries first (they have waited longest), then fresh ones; fresh ones are almost always ready at the head. */
function readyIndex(
  queue: TenantQueue,
  now: number,
  limiter: RateLimiter,
): { readonly retry: boolean; readonly at: number } | undefined {
  const retryAt = queue.retries.findIndex((delivery) => readyAt(delivery, limiter) <= now);
  if (retryAt >= 0) return { retry: true, at: retryAt };
  const freshAt = queue.fresh.findIndex((delivery) => readyAt(delivery, limiter) <= now);
  return freshAt >= 0 ? { retry: false, at: freshAt } : undefined;
}
