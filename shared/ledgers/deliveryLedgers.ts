// ledgers/: who already got a notification, and which ids a run has claimed (memory and Table).
// May import storage/ and the root utilities.
import type { ConversationKey } from '../storage/conversationStore';
import { toKey } from '../storage/conversationKeys';

/**
 * The ledgers of client-chosen notification ids. A run first claims its id:
 * the claim is what keeps two requests with the same id (on this instance or
 * another) from sending at the same time, and it lapses after `leaseMs` so a
 * crashed run does not block its id for good. The first claim of an id also
 * records the request's fingerprint (what is sent, to whom): the id stays
 * bound to it, so a reused id with another message is refused, not skipped.
 */
/** Remembers who already got a notification, so a retried request never sends twice. */
export interface DeliveryLedger {
  wasDelivered(key: ConversationKey): Promise<boolean>;
  recordDelivered(key: ConversationKey): Promise<void>;
}

export interface DeliveryLedgers {
  /** Claims the id and reads what is already recorded for it; throws when the storage is unreachable. */
  claim(notificationId: string, leaseMs: number, fingerprint: string): Promise<LedgerClaim>;
}

/**
 * A ledger opened without a claim, for callers that keep one writer per
 * ledger themselves (queued notifications: one lease holder per tenant).
 */
export interface DeliveryLedgerAccess {
  open(ledgerName: string, options?: LedgerOpenOptions): DeliveryLedger;
}

/** Reading a ledger back whole (the per-recipient export of a queued notification). */
export interface DeliveryLedgerReading {
  /** The delivery keys (`deliveryRowKey`) recorded in the ledger; empty when it has none. */
  deliveredKeys(ledgerName: string): Promise<ReadonlySet<string>>;
}

/** Deleting ledgers whose time is over (retention of queued notifications). */
export interface DeliveryLedgerRemoval {
  /**
   * Deletes up to `budget` rows of the ledgers whose names start with `prefix` (and of `names`, for a
   * name too long to be found by its prefix); returns how many, fewer than `budget` when none is left.
   */
  removeLedgers(prefix: string, names: readonly string[], budget: number): Promise<number>;
}

export interface LedgerOpenOptions {
  /**
   * How long a delivery may wait to be written together with the ones after it (default
   * `defaultGroupWindowMs`); 0 writes each as soon as it comes. Until it is written, a crash leaves it
   * unrecorded and it is sent again.
   */
  readonly groupWindowMs?: number;
}

export const defaultGroupWindowMs = 20;

export type LedgerClaim =
  | { readonly claimed: true; readonly ledger: DeliveryLedger; release(): Promise<void> }
  /** `running`: another run holds the id and its lease has not lapsed. `reused`: the id was first claimed with another fingerprint. */
  | { readonly claimed: false; readonly reason: 'running' | 'reused' };

/**
 * Key of a conversation in a notification's ledger: channel and conversation
 * id escaped together (the newline between them is escaped too, so no two
 * keys collide), hashed when too long, like the store's keys.
 */
export function deliveryRowKey({ channelId, conversationId }: ConversationKey): string {
  return toKey(`${channelId}\n${conversationId}`);
}
