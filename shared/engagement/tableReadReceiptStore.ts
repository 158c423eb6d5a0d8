import { odata } from '@azure/data-tables';
import { toKey } from '../storage/conversationKeys';
import { deleteMatchingRows, deleteRows } from '../storage/rowDeletion';
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
 *   key), and their counters;
 * - `s<notification>`: the chats the notification was indexed under (RowKey the escaped chat key),
 *   written before the chat's row, so retention finds a chat's unread row by notification and
 *   deletes it before its listing row (a run cut short finds the rest next time).
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
const sentPartition = (notificationId: string): string => `s${toKey(notificationId)}`;

/** How many listing rows retention reads at once, and how many chat rows it deletes at once. */
const listingPage = 100;
const concurrentDeletes = 8;

export class TableReadReceiptStore implements ReadReceiptStore {
  private readonly table: Table;
  private readonly marks: CountedRows;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(connection, options.tableName ?? defaultReadReceiptsTable, (operation, cause) => new ReadReceiptTableUnavailableError(operation, cause), options);
    this.marks = new CountedRows(this.table, 'mark read');
  }

  async recordSent(message: SentMessage): Promise<void> {
    const listing = { partitionKey: sentPartition(message.notificationId), rowKey: toKey(chatKey(message.conversation)) };
    await this.table.call('record sent', (client) => client.upsertEntity(listing, 'Replace'));
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

  async remove(notificationId: string, budget: number): Promise<number> {
    const unread = await this.removeUnread(notificationId, budget);
    if (unread >= budget) return unread;
    return unread + (await deleteMatchingRows(this.table, 'remove', odata`PartitionKey eq ${marksPartition(notificationId)}`, budget - unread));
  }

  /**
   * Deletes the notification's rows in the chats' unread indexes (a point delete each: every chat
   * is its own partition), each before its listing row, and counts the rows that were there. A
   * listing row outlives its chat's row, so a run stopped by its budget finds the rest next time.
   */
  private async removeUnread(notificationId: string, budget: number): Promise<number> {
    const partitionKey = sentPartition(notificationId);
    const rowKey = toKey(notificationId);
    let deleted = 0;
    for (;;) {
      const wanted = Math.min(listingPage, budget - deleted);
      if (wanted <= 0) return deleted;
      const chats = await this.table.call('remove', async (client) => {
        const keys: string[] = [];
        const pages = client.listEntities<{ rowKey?: string }>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] } }).byPage({ maxPageSize: wanted });
        for await (const page of pages) {
          for (const row of page) if (typeof row.rowKey === 'string') keys.push(row.rowKey);
          if (keys.length >= wanted) break;
        }
        return keys.slice(0, wanted);
      });
      if (chats.length === 0) return deleted;
      deleted += await this.deleteUnreadRows(chats.map((chat) => `c${chat}`), rowKey);
      const listed = chats.slice(0, budget - deleted);
      deleted += await deleteRows(this.table, 'remove', listed.map((chat) => ({ partitionKey, rowKey: chat })));
      if (listed.length < chats.length || chats.length < wanted) return deleted;
    }
  }

  /** Deletes the row `rowKey` of each chat partition, a few at once; returns how many were there. */
  private async deleteUnreadRows(partitions: readonly string[], rowKey: string): Promise<number> {
    let next = 0;
    let deleted = 0;
    const worker = async (): Promise<void> => {
      while (next < partitions.length) {
        const partitionKey = partitions[next++] as string;
        const gone = await this.table.call('remove', async (client) => {
          try {
            await client.deleteEntity(partitionKey, rowKey);
            return true;
          } catch (error) {
            if (hasStatus(error, 404)) return false;
            throw error;
          }
        });
        if (gone) deleted += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrentDeletes, partitions.length) }, worker));
    return deleted;
  }

}
