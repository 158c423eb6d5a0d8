import type { DeliveryLedger } from './broadcastTypes';

/**
 * The ledgers of client-chosen notification ids. A run first claims its id:
 * the claim is what keeps two requests with the same id (on this instance or
 * another) from sending at the same time, and it lapses after `leaseMs` so a
 * crashed run does not block its id for good.
 */
export interface DeliveryLedgers {
  /** Claims the id and reads what is already recorded for it; throws when the storage is unreachable. */
  claim(notificationId: string, leaseMs: number): Promise<LedgerClaim>;
}

export type LedgerClaim =
  | { readonly claimed: true; readonly ledger: DeliveryLedger; release(): Promise<void> }
  /** Another run holds the id and its lease has not lapsed. */
  | { readonly claimed: false };
