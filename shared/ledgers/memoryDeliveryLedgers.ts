import type { ConversationKey } from '../storage/conversationStore';
import {
  deliveryRowKey,
  firstRevision,
  LedgerEntryFold,
  type DeliveredChat,
  type DeliveryLedger,
  type DeliveryLedgerAccess,
  type DeliveryLedgerReading,
  type DeliveryLedgerRemoval,
  type DeliveryLedgers,
  type LedgerClaim,
  type LedgerEntry,
  type LedgerMark,
  type LedgerMarkWriter,
  type LedgerOpenOptions,
} from './deliveryLedgers';

/** One ledger's rows: a delivery per key, and the marks passes wrote. */
interface MemoryLedger {
  readonly delivered: Map<string, { readonly activityId: string | undefined; readonly revision: number; readonly chat?: DeliveredChat }>;
  readonly marks: Array<{ readonly key: string; readonly mark: LedgerMark; readonly activityId?: string }>;
}

/** The in-memory twin of TableDeliveryLedgers, for unit tests: same keys and claims, lost with the process. */
export class MemoryDeliveryLedgers implements DeliveryLedgers, DeliveryLedgerAccess, DeliveryLedgerReading, DeliveryLedgerRemoval {
  private readonly ledgers = new Map<string, MemoryLedger>();
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
      ledger: this.ledger(notificationId, firstRevision),
      release: async () => {
        if (this.leases.get(notificationId)?.token === token) this.leases.set(notificationId, { token, expiresAt: 0, fingerprint });
      },
    };
  }

  /** How many deliveries are recorded for an id. */
  count(notificationId: string): number {
    return this.ledgers.get(notificationId)?.delivered.size ?? 0;
  }

  async deliveredKeys(ledgerName: string): Promise<ReadonlySet<string>> {
    return new Set(this.ledgers.get(ledgerName)?.delivered.keys() ?? []);
  }

  async entries(ledgerName: string): Promise<ReadonlyMap<string, LedgerEntry>> {
    const fold = new LedgerEntryFold();
    const ledger = this.ledgers.get(ledgerName);
    for (const [key, delivery] of ledger?.delivered ?? []) fold.delivery(key, delivery.activityId, delivery.revision, delivery.chat);
    for (const { key, mark, activityId } of ledger?.marks ?? []) fold.mark(key, mark, activityId);
    return fold.entries();
  }

  async removeLedgers(prefix: string, names: readonly string[], budget: number): Promise<number> {
    let deleted = 0;
    for (const [name, ledger] of this.ledgers) {
      if (!name.startsWith(prefix) && !names.includes(name)) continue;
      for (const key of ledger.delivered.keys()) {
        if (deleted >= budget) return deleted;
        ledger.delivered.delete(key);
        deleted += 1;
      }
      while (ledger.marks.length > 0) {
        if (deleted >= budget) return deleted;
        ledger.marks.pop();
        deleted += 1;
      }
      this.ledgers.delete(name);
    }
    return deleted;
  }

  open(ledgerName: string, options: LedgerOpenOptions = {}): DeliveryLedger {
    return this.ledger(ledgerName, options.revision ?? firstRevision);
  }

  openMarks(ledgerName: string, mark: LedgerMark): LedgerMarkWriter {
    const ledger = this.rows(ledgerName);
    return {
      record: async (key, activityId) => {
        ledger.marks.push({ key: deliveryRowKey(key), mark, ...(activityId === undefined ? {} : { activityId }) });
      },
    };
  }

  private ledger(ledgerName: string, revision: number): DeliveryLedger {
    const ledger = this.rows(ledgerName);
    return {
      wasDelivered: async (key: ConversationKey) => ledger.delivered.has(deliveryRowKey(key)),
      recordDelivered: async (key: ConversationKey, activityId?: string, chat?: DeliveredChat) => {
        ledger.delivered.set(deliveryRowKey(key), { activityId, revision, ...(chat === undefined ? {} : { chat }) });
      },
    };
  }

  private rows(ledgerName: string): MemoryLedger {
    let ledger = this.ledgers.get(ledgerName);
    if (ledger === undefined) {
      ledger = { delivered: new Map(), marks: [] };
      this.ledgers.set(ledgerName, ledger);
    }
    return ledger;
  }
}
