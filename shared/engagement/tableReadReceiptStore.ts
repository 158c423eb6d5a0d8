import { randomUUID } from 'node:crypto';
import { odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { bucketOf, toKey } from '../storage/conversationKeys';
import type { ConversationKey } from '../storage/conversationStore';
import { prefixEnd } from '../storage/keyRanges';
import { deleteMatchingRows, deleteRows } from '../storage/rowDeletion';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, hasStatus, transactionChunks, type TableOptions } from '../storage/tableClient';
import { CountedRows, isCounterRow } from './countedRows';
import { chatKey, isReadUpTo, type ReadMark, type ReadReceipt, type ReadReceiptStore, type SentMessage } from './readReceiptStore';

/**
 * The `readreceipts` table (see readReceiptStore.ts for the design and its costs), three kinds of
 * partition:
 * - `u<tenant>,<bucket>`: personal chats' deliveries not read yet, one row per chat and notification
 *   (RowKey `<chat>,<notification>`, escaped, so one chat's rows are a range of keys), with the
 *   message's activity id. A chat's bucket is a hash of its key (16 per tenant), so a batch (one
 *   tenant's) is written in a few transactions, not a request each, and no partition holds more
 *   than a sixteenth of one tenant's unread deliveries;
 * - `n<notification>`: the notification's read marks, one row per chat (RowKey the escaped chat
 *   key), and their counters;
 * - `s<notification>,<write>`: the chats the notification was indexed under (RowKey the escaped chat
 *   key), a partition per write (a batch's deliveries), written before the chats' rows, so retention
 *   finds a chat's unread row by notification (a range of partitions) and deletes it before its
 *   listing row (a run cut short finds the rest next time). Not one partition per notification:
 *   Azurite's writes slow down with the size of the partition they go to (100 rows took 43 ms into
 *   an empty one, 340 ms into one of 20,000), and 100 tenants' batches wrote the same one at once.
 *
 * Rows written before the buckets sit in `c<chat>` (RowKey the notification), listed in
 * `s<notification>` without a `tenantId`: receipts still read them and retention still deletes them.
 */

export const defaultReadReceiptsTable = 'readreceipts';

export class ReadReceiptTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Read receipts table', operation, cause);
    this.name = 'ReadReceiptTableUnavailableError';
  }
}

type UnreadEntity = {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly notificationId: string;
  /** Absent on rows of the first layout. */
  readonly tenantId?: string;
  readonly channelId: string;
  readonly conversationId: string;
  readonly activityId: string;
};

type ListingEntity = {
  readonly partitionKey: string;
  readonly rowKey: string;
  /** The chat's tenant, which names its unread row's partition; absent on listing rows of the first layout. */
  readonly tenantId: string;
};

interface MarkEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly channelId: string;
  readonly conversationId: string;
  readonly readAt: Date;
}

/** Each part of an unread row's key stays under half of maxKeyLength, so the two fit together. */
const maxPartLength = 250;
/** A chat's part of its keys; also the RowKey of its listing row. */
const chatPart = (conversation: ConversationKey): string => toKey(chatKey(conversation), maxPartLength);
const unreadPartition = (tenantId: string, chat: string): string => `u${toKey(tenantId, maxPartLength)},${bucketOf(chat)}`;
/** `,` is escaped in every escaped id and absent from a hashed one, so a chat's rows are exactly the keys starting `<chat>,`. */
const unreadRowPrefix = (chat: string): string => `${chat},`;
const unreadRowKey = (chat: string, notificationId: string): string => `${unreadRowPrefix(chat)}${toKey(notificationId, maxPartLength)}`;
const legacyChatPartition = (conversation: ConversationKey): string => `c${toKey(chatKey(conversation))}`;
const marksPartition = (notificationId: string): string => `n${toKey(notificationId)}`;
/** The listing rows of one `recordSent` call: a partition of its own, so none grows with the audience (see the header). */
const sentPartition = (notificationId: string, writeId: string): string => `s${toKey(notificationId)},${writeId}`;
/** Every listing partition of the notification, and the one partition rows written before those had. */
const sentPartitions = (notificationId: string): string => {
  const first = `s${toKey(notificationId)}`;
  return odata`PartitionKey eq ${first} or (PartitionKey ge ${`${first},`} and PartitionKey lt ${prefixEnd(`${first},`)})`;
};

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

  /** The listing rows first, then the unread rows: a transaction per 100 rows of one partition, partitions at once. */
  async recordSent(messages: readonly SentMessage[]): Promise<void> {
    const unread = new Map<string, UnreadEntity & { readonly tenantId: string }>();
    for (const message of messages) {
      const chat = chatPart(message.conversation);
      const { channelId, conversationId } = message.conversation;
      const row = { partitionKey: unreadPartition(message.tenantId, chat), rowKey: unreadRowKey(chat, message.notificationId), notificationId: message.notificationId, tenantId: message.tenantId, channelId, conversationId, activityId: message.activityId };
      unread.set(`${row.partitionKey}\n${row.rowKey}`, row);
    }
    const writeId = randomUUID();
    const listings = [...unread.values()].map((row): ListingEntity => ({ partitionKey: sentPartition(row.notificationId, writeId), rowKey: chatPart(row), tenantId: row.tenantId }));
    await this.upsertAll(listings);
    await this.upsertAll([...unread.values()]);
  }

  async receipt(receipt: ReadReceipt): Promise<number> {
    const unread = await this.unreadOf(receipt.tenantId, receipt.conversation);
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
      await this.deleteIfThere('receipt', row.partitionKey, row.rowKey);
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

  private async upsertAll(rows: readonly TableEntity[]): Promise<void> {
    const transactions = transactionChunks(rows).map((chunk): TransactionAction[] => chunk.map((row) => ['upsert', row, 'Replace']));
    await Promise.all(transactions.map((actions) => this.table.call('record sent', (client) => client.submitTransaction(actions))));
  }


  /** The chat's rows not read yet: a range of one bucket, and the partition of the rows written before the buckets. */
  private async unreadOf(tenantId: string, conversation: ConversationKey): Promise<UnreadEntity[]> {
    const chat = chatPart(conversation);
    const prefix = unreadRowPrefix(chat);
    const filters = [odata`PartitionKey eq ${unreadPartition(tenantId, chat)} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`, odata`PartitionKey eq ${legacyChatPartition(conversation)}`];
    const listed = await Promise.all(
      filters.map((filter) =>
        this.table.call('receipt', async (client) => {
          const rows: UnreadEntity[] = [];
          for await (const row of client.listEntities<UnreadEntity>({ queryOptions: { filter } })) rows.push(row);
          return rows;
        }),
      ),
    );
    return listed.flat();
  }

  /**
   * Deletes the notification's rows in the chats' unread indexes, each before its listing row, and
   * counts the rows that were there. A listing row outlives its chat's row, so a run stopped by its
   * budget finds the rest next time.
   */
  private async removeUnread(notificationId: string, budget: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const wanted = Math.min(listingPage, budget - deleted);
      if (wanted <= 0) return deleted;
      const listings = await this.table.call('remove', async (client) => {
        const rows: Partial<ListingEntity>[] = [];
        const pages = client.listEntities<Partial<ListingEntity>>({ queryOptions: { filter: sentPartitions(notificationId), select: ['PartitionKey', 'RowKey', 'tenantId'] } }).byPage({ maxPageSize: wanted });
        for await (const page of pages) {
          rows.push(...page);
          if (rows.length >= wanted) break;
        }
        return rows.slice(0, wanted);
      });
      if (listings.length === 0) return deleted;
      deleted += await this.deleteUnreadRows(notificationId, listings);
      const listed = listings.slice(0, budget - deleted).map((row) => ({ partitionKey: row.partitionKey ?? '', rowKey: row.rowKey ?? '' }));
      deleted += await deleteRows(this.table, 'remove', listed);
      if (listed.length < listings.length || listings.length < wanted) return deleted;
    }
  }

  /** Deletes the notification's unread row of each listed chat, a few at once; returns how many were there. */
  private async deleteUnreadRows(notificationId: string, listings: readonly Partial<ListingEntity>[]): Promise<number> {
    const rows = listings.map((listing) => {
      const chat = listing.rowKey ?? '';
      return typeof listing.tenantId === 'string'
        ? { partitionKey: unreadPartition(listing.tenantId, chat), rowKey: unreadRowKey(chat, notificationId) }
        : { partitionKey: `c${chat}`, rowKey: toKey(notificationId) };
    });
    let next = 0;
    let deleted = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        const row = rows[next++] as (typeof rows)[number];
        if (await this.deleteIfThere('remove', row.partitionKey, row.rowKey)) deleted += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrentDeletes, rows.length) }, worker));
    return deleted;
  }

  /** A point delete; false when the row was gone already. */
  private deleteIfThere(operation: string, partitionKey: string, rowKey: string): Promise<boolean> {
    return this.table.call(operation, async (client) => {
      try {
        await client.deleteEntity(partitionKey, rowKey);
        return true;
      } catch (error) {
        if (hasStatus(error, 404)) return false;
        throw error;
      }
    });
  }
}
