import { odata } from '@azure/data-tables';
import { toKey } from '../storage/conversationKeys';
import { deleteMatchingRows } from '../storage/rowDeletion';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, hasStatus, type TableOptions } from '../storage/tableClient';
import { CountedRows, isCounterRow } from './countedRows';
import { chatKey, isReadUpTo, type ReadMark, type ReadReceipt, type ReadReceiptStore, type SentMessage } from './readReceiptStore';

/**
 * The `readreceipts` table (see readReceiptStore.ts for the design and its costs), two kinds of
 * partition:
 * - `c<chat>`: a personal chat's deliveries not read yet, one row per notification (RowKey the
 *   escaped id) with the message's activity id;
 * - `n<notification>`: the notification's read marks, one row per chat (RowKey the escaped chat
 *   key), and their counters.
 */

export const defaultReadReceiptsTable = 'readreceipts';

export class ReadReceiptTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Read receipts table', operation, cause);
    this.name = 'ReadReceiptTableUnavailableError';
  }
}

interface UnreadEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly notificationId: string;
  readonly channelId: string;
  readonly conversationId: string;
  readonly activityId: string;
}

interface MarkEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly channelId: string;
  readonly conversationId: string;
  readonly readAt: Date;
}

const chatPartition = (message: Pick<SentMessage, 'conversation'>): string => `c${toKey(chatKey(message.conversation))}`;
const marksPartition = (notificationId: string): string => `n${toKey(notificationId)}`;

export class TableReadReceiptStore implements ReadReceiptStore {
  private readonly table: Table;
  private readonly marks: CountedRows;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(connection, options.tableName ?? defaultReadReceiptsTable, (operation, cause) => new ReadReceiptTableUnavailableError(operation, cause), options);
    this.marks = new CountedRows(this.table, 'mark read');
  }

  async recordSent(message: SentMessage): Promise<void> {
    const entity: UnreadEntity = {
      partitionKey: chatPartition(message),
      rowKey: toKey(message.notificationId),
      notificationId: message.notificationId,
      channelId: message.conversation.channelId,
      conversationId: message.conversation.conversationId,
      activityId: message.activityId,
    };
    await this.table.call('record sent', (client) => client.upsertEntity(entity, 'Replace'));
  }

  async receipt(receipt: ReadReceipt): Promise<number> {
    const partitionKey = chatPartition(receipt);
    const unread = await this.table.call('receipt', async (client) => {
      const rows: UnreadEntity[] = [];
      for await (const row of client.listEntities<UnreadEntity>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` } })) rows.push(row);
      return rows;
    });
    let marked = 0;
    for (const row of unread) {
      if (!isReadUpTo(row.activityId, receipt.lastReadMessageId)) continue;
      const mark: MarkEntity = {
        partitionKey: marksPartition(row.notificationId),
        rowKey: toKey(chatKey(receipt.conversation)),
        channelId: row.channelId,
        conversationId: row.conversationId,
        readAt: receipt.at,
      };
      // Marked and counted first, then out of the index: a crash between the two leaves a row the next receipt finds marked already.
      if (await this.marks.insert({ ...mark })) marked += 1;
      await this.table.call('receipt', async (client) => {
        try {
          await client.deleteEntity(row.partitionKey, row.rowKey);
        } catch (error) {
          if (!hasStatus(error, 404)) throw error;
        }
      });
    }
    return marked;
  }

  count(notificationId: string): Promise<number> {
    return this.marks.count(marksPartition(notificationId));
  }

  async list(notificationId: string): Promise<ReadMark[]> {
    const filter = odata`PartitionKey eq ${marksPartition(notificationId)}`;
    return this.table.call('list', async (client) => {
      const marks: ReadMark[] = [];
      for await (const row of client.listEntities<Partial<MarkEntity>>({ queryOptions: { filter } })) {
        if (typeof row.rowKey !== 'string' || isCounterRow(row.rowKey) || !(row.readAt instanceof Date)) continue;
        marks.push({ conversation: { channelId: row.channelId ?? '', conversationId: row.conversationId ?? '' }, readAt: row.readAt });
      }
      return marks;
    });
  }

  remove(notificationId: string, budget: number): Promise<number> {
    return deleteMatchingRows(this.table, 'remove', odata`PartitionKey eq ${marksPartition(notificationId)}`, budget);
  }
}
