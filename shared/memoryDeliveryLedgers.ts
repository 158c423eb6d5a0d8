import type { DeliveryLedger } from './broadcastTypes';
import type { ConversationKey } from './conversationStore';
import { deliveryRowKey } from './tableDeliveryLedger';
import type { DeliveryLedgers } from './deliveryLedgers';

/** The in-memory twin of TableDeliveryLedgers, for unit tests: same keys, lost with the process. */
export class MemoryDeliveryLedgers implements DeliveryLedgers {
  private readonly delivered = new Map<string, Set<string>>();

  async open(notificationId: string): Promise<DeliveryLedger> {
    let rows = this.delivered.get(notificationId);
    if (rows === undefined) {
      rows = new Set();
      this.delivered.set(notificationId, rows);
    }
    const ledger: Set<string> = rows;
    return {
      wasDelivered: async (key: ConversationKey) => ledger.has(deliveryRowKey(key)),
      recordDelivered: async (key: ConversationKey) => {
        ledger.add(deliveryRowKey(key));
      },
    };
  }

  /** How many deliveries are recorded for an id. */
  count(notificationId: string): number {
    return this.delivered.get(notificationId)?.size ?? 0;
  }
}
