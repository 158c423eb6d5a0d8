import { recordOf, type Acknowledgement, type AcknowledgementRecord, type AcknowledgementStore, type AcknowledgeResult } from './acknowledgementStore';

/** The in-memory twin of TableAcknowledgementStore, for unit tests: same keys, same answers. */
export class MemoryAcknowledgementStore implements AcknowledgementStore {
  /** notification id → person key → the first press. */
  private readonly notifications = new Map<string, Map<string, AcknowledgementRecord>>();

  async acknowledge(acknowledgement: Acknowledgement): Promise<AcknowledgeResult> {
    const record = recordOf(acknowledgement);
    const rows = this.notifications.get(acknowledgement.notificationId) ?? new Map<string, AcknowledgementRecord>();
    this.notifications.set(acknowledgement.notificationId, rows);
    const earlier = rows.get(record.personKey);
    if (earlier !== undefined) return { first: false, record: earlier };
    rows.set(record.personKey, record);
    return { first: true, record };
  }

  async count(notificationId: string): Promise<number> {
    return this.notifications.get(notificationId)?.size ?? 0;
  }

  async list(notificationId: string): Promise<AcknowledgementRecord[]> {
    return [...(this.notifications.get(notificationId)?.values() ?? [])];
  }

  async remove(notificationId: string, budget: number): Promise<number> {
    const rows = this.notifications.get(notificationId);
    if (rows === undefined) return 0;
    let removed = 0;
    for (const key of [...rows.keys()]) {
      if (removed === budget) break;
      rows.delete(key);
      removed += 1;
    }
    if (rows.size === 0) this.notifications.delete(notificationId);
    return removed;
  }
}
