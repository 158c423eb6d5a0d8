import type { ConversationKey } from '../storage/conversationStore';
import { deliveryRowKey, type DeliveryLedger, type DeliveryLedgerAccess, type DeliveryLedgerReading, type DeliveryLedgerRemoval, type DeliveryLedgers, type LedgerClaim } from './deliveryLedgers';

/** The in-memory twin of TableDeliveryLedgers, for unit tests: same keys and claims, lost with the process. */
export class MemoryDeliveryLedgers implements DeliveryLedgers, DeliveryLedgerAccess, DeliveryLedgerReading, DeliveryLedgerRemoval {
  private readonly delivered = new Map<string, Set<string>>();
  /** Kept after release (lapsed at once), like the table's lease row, so the id stays bound to its fingerprint. */
  private readonly leases = new Map<string, { readonly token: object; readonly expiresAt: number; readonly fingerprint: string }>();

  constructor(private readonly now: () => number = Date.now) {}

  async claim(notificationId: string, leaseMs: number, fingerprint: string): Promise<LedgerClaim> {
    const lease = this.leases.get(notificationId);
    if (lease !== undefined && lease.fingerprint !== fingerprint) return { claimed: false, reason: 'reused' };
    if (lease !== undefined && lease.expiresAt > this.now()) return { claimed: false, reason: 'running' };
    const token = {};
    this.leases.set(notificationId, { token, expiresAt: this.now() + leaseMs, fingerprint });
    return {
      claimed: true,
      ledger: this.ledger(notificationId),
      release: async () => {
        if (this.leases.get(notificationId)?.token === token) this.leases.set(notificationId, { token, expiresAt: 0, fingerprint });
      },
    };
  }

  /** How many deliveries are recorded for an id. */
  count(notificationId: string): number {
    return this.delivered.get(notificationId)?.size ?? 0;
  }

  async deliveredKeys(ledgerName: string): Promise<ReadonlySet<string>> {
    return new Set(this.delivered.get(ledgerName) ?? []);
  }

  async removeLedgers(prefix: string, names: readonly string[], budget: number): Promise<number> {
    let deleted = 0;
    for (const [name, rows] of this.delivered) {
      if (!name.startsWith(prefix) && !names.includes(name)) continue;
      for (const row of rows) {
        if (deleted >= budget) return deleted;
        rows.delete(row);
        deleted += 1;
      }
      this.delivered.delete(name);
    }
    return deleted;
  }

  open(ledgerName: string): DeliveryLedger {
    return this.ledger(ledgerName);
  }

  private ledger(notificationId: string): DeliveryLedger {
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
}
