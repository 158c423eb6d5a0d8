import { odata } from '@azure/data-tables';
import { toKey } from '../storage/conversationKeys';
import { deleteMatchingRows } from '../storage/rowDeletion';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, hasStatus, type TableOptions } from '../storage/tableClient';
import { recordOf, type Acknowledgement, type AcknowledgementRecord, type AcknowledgementStore, type AcknowledgeResult } from './acknowledgementStore';
import { CountedRows, isCounterRow } from './countedRows';

/**
 * The `acknowledgements` table: one partition per notification (PartitionKey the escaped id), one
 * row per person who pressed its button (RowKey the escaped person key: `aad:<object id>`, else
 * `user:<channel>\n<user id>`), and the partition's counters (countedRows.ts), so the status reads
 * the number in one query of 8 rows however many pressed. A press costs a counter read and one
 * transaction (the row and the counter together); a second press, one failed transaction and a read.
 */

export const defaultAcknowledgementsTable = 'acknowledgements';

export class AcknowledgementTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Acknowledgements table', operation, cause);
    this.name = 'AcknowledgementTableUnavailableError';
  }
}

interface AcknowledgementEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly person: string;
  readonly channelId: string;
  readonly conversationId: string;
  readonly acknowledgedAt: Date;
  /** Absent when the person's channel gave no local time. */
  readonly offsetMinutes?: number;
}

export class TableAcknowledgementStore implements AcknowledgementStore {
  private readonly table: Table;
  private readonly rows: CountedRows;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(connection, options.tableName ?? defaultAcknowledgementsTable, (operation, cause) => new AcknowledgementTableUnavailableError(operation, cause), options);
    this.rows = new CountedRows(this.table, 'acknowledge');
  }

  async acknowledge(acknowledgement: Acknowledgement): Promise<AcknowledgeResult> {
    const record = recordOf(acknowledgement);
    const partitionKey = toKey(acknowledgement.notificationId);
    const rowKey = toKey(record.personKey);
    const entity: AcknowledgementEntity = {
      partitionKey,
      rowKey,
      person: record.personKey,
      channelId: record.conversation.channelId,
      conversationId: record.conversation.conversationId,
      acknowledgedAt: record.acknowledgedAt,
      ...(record.offsetMinutes === undefined ? {} : { offsetMinutes: record.offsetMinutes }),
    };
    if (await this.rows.insert({ ...entity })) return { first: true, record };
    const earlier = await this.table.call('acknowledge', async (client) => {
      try {
        return await client.getEntity<Partial<AcknowledgementEntity>>(partitionKey, rowKey);
      } catch (error) {
        if (hasStatus(error, 404)) return undefined;
        throw error;
      }
    });
    const stored = earlier === undefined ? undefined : recordFrom(earlier);
    // Removed between the two calls (retention): the press stands as the first.
    return stored === undefined ? { first: true, record } : { first: false, record: stored };
  }

  count(notificationId: string): Promise<number> {
    return this.rows.count(toKey(notificationId));
  }

  async list(notificationId: string): Promise<AcknowledgementRecord[]> {
    const filter = odata`PartitionKey eq ${toKey(notificationId)}`;
    return this.table.call('list', async (client) => {
      const records: AcknowledgementRecord[] = [];
      for await (const row of client.listEntities<Partial<AcknowledgementEntity>>({ queryOptions: { filter } })) {
        if (typeof row.rowKey === 'string' && isCounterRow(row.rowKey)) continue;
        const record = recordFrom(row);
        if (record !== undefined) records.push(record);
      }
      return records;
    });
  }

  remove(notificationId: string, budget: number): Promise<number> {
    return deleteMatchingRows(this.table, 'remove', odata`PartitionKey eq ${toKey(notificationId)}`, budget);
  }
}

function recordFrom(row: Partial<AcknowledgementEntity>): AcknowledgementRecord | undefined {
  if (typeof row.person !== 'string' || !(row.acknowledgedAt instanceof Date)) return undefined;
  return {
    personKey: row.person,
    conversation: { channelId: row.channelId ?? '', conversationId: row.conversationId ?? '' },
    acknowledgedAt: row.acknowledgedAt,
    offsetMinutes: typeof row.offsetMinutes === 'number' ? row.offsetMinutes : undefined,
  };
}
