import { odata, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { hasStatus, type Table } from '../storage/tableClient';

/**
 * Rows of one partition whose number is kept beside them, so reading it costs one small query
 * whatever the number: `shards` counter rows (`~count~0` … `~count~7`; `~` is escaped in every
 * other key, so nothing collides with them). A row is inserted together with one counter's
 * increment in a single transaction: a row is counted once, and never without being stored. The
 * counter is picked at random, so people pressing a button at the same moment rarely wait for each
 * other; a lost race (the counter's ETag changed) is tried again on another counter.
 */

const counterPrefix = '~count~';
const shards = 8;
const maxAttempts = 30;

export class CountedRowsContentionError extends Error {
  constructor(partitionKey: string) {
    super(`Could not count a new row of partition "${partitionKey}" after ${maxAttempts} attempts (too many writers at once)`);
    this.name = 'CountedRowsContentionError';
  }
}

export class CountedRows {
  constructor(
    private readonly table: Table,
    private readonly operation: string,
  ) {}

  /** Inserts the row and counts it; false (and nothing changes) when a row with its keys exists already. */
  async insert(entity: TableEntity): Promise<boolean> {
    return this.table.call(this.operation, async (client) => {
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const counterKey = `${counterPrefix}${Math.floor(Math.random() * shards)}`;
        const increment = await counterIncrement(client, entity.partitionKey, counterKey);
        try {
          await client.submitTransaction([['create', entity], increment]);
          return true;
        } catch (error) {
          if (!hasStatus(error, 409) && !hasStatus(error, 412)) throw error;
          if (await exists(client, entity.partitionKey, entity.rowKey)) return false;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
        }
      }
      throw new CountedRowsContentionError(entity.partitionKey);
    });
  }

  /** How many rows `insert` has stored in the partition: one query of `shards` rows. */
  async count(partitionKey: string): Promise<number> {
    return this.table.call(this.operation, async (client) => {
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${counterPrefix} and RowKey lt ${`${counterPrefix}~`}`;
      let total = 0;
      for await (const row of client.listEntities<{ count?: number }>({ queryOptions: { filter, select: ['count'] } })) {
        if (typeof row.count === 'number') total += row.count;
      }
      return total;
    });
  }
}

/** The counter's next value, written only if nobody else wrote it since it was read (a new counter: only if still absent). */
async function counterIncrement(client: TableClient, partitionKey: string, rowKey: string): Promise<TransactionAction> {
  try {
    const counter = await client.getEntity<{ count?: number }>(partitionKey, rowKey);
    return ['update', { partitionKey, rowKey, count: (counter.count ?? 0) + 1 }, 'Replace', { etag: counter.etag }];
  } catch (error) {
    if (!hasStatus(error, 404)) throw error;
    return ['create', { partitionKey, rowKey, count: 1 }];
  }
}

async function exists(client: TableClient, partitionKey: string, rowKey: string): Promise<boolean> {
  try {
    await client.getEntity(partitionKey, rowKey, { queryOptions: { select: ['RowKey'] } });
    return true;
  } catch (error) {
    if (hasStatus(error, 404)) return false;
    throw error;
  }
}

/** Whether a row key is one of the counters (readers of the partition skip them). */
export function isCounterRow(rowKey: string): boolean {
  return rowKey.startsWith(counterPrefix);
}
