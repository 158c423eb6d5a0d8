import type { DeliveryLedger } from './broadcastTypes';

/** Opens the ledger of one notification id; a retry of the same id gets the same ledger contents. */
export interface DeliveryLedgers {
  /** Reads what is already recorded for this id; throws when the storage is unreachable. */
  open(notificationId: string): Promise<DeliveryLedger>;
}
