import type { TableClient, TransactionAction } from '@azure/data-tables';
import { hasStatus, transactionChunks, type Table } from './tableClient';

/** A row to delete, by its keys. */
export interface RowKeys {
  readonly partitionKey: string;
  readonly rowKey: string;
}

/**
 * Deletes up to `budget` rows matching the OData filter; returns how many it deleted. Fewer than
 * `budget` means no matching row is left. Rows go in transactions of up to 100 of one partition
 * (Azure's limit), so 100,000 ledger rows cost about 1,000 requests. Idempotent: a row already gone
 * (another cleanup, a rerun) is not an error.
 */
export async function deleteMatchingRows(table: Table, operation: string, filter: string, budget: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const wanted = budget - deleted;
    if (wanted <= 0) return deleted;
    const keys = await table.call(operation, (client) => listKeys(client, filter, wanted));
    if (keys.length === 0) return deleted;
    deleted += await deleteRows(table, operation, keys);
    // The listing ended before `wanted`: nothing else matched when it was read.
    if (keys.length < wanted) return deleted;
  }
}

/** Deletes these rows (missing ones are skipped); returns how many were asked for. */
export async function deleteRows(table: Table, operation: string, keys: readonly RowKeys[]): Promise<number> {
  for (const chunk of transactionChunks(keys)) {
    const partitionKey = (chunk[0] as RowKeys).partitionKey;
    await table.call(operation, (client) => deleteChunk(client, partitionKey, chunk.map((row) => row.rowKey)));
  }
  return keys.length;
}

/** Up to `limit` matching rows' keys, following continuation tokens past empty pages (a cross-partition scan may return some). */
async function listKeys(client: TableClient, filter: string, limit: number): Promise<RowKeys[]> {
  const keys: RowKeys[] = [];
  const pages = client
    .listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } })
    .byPage({ maxPageSize: Math.min(1_000, limit) });
  for await (const page of pages) {
    for (const row of page) {
      if (typeof row.partitionKey === 'string' && typeof row.rowKey === 'string') keys.push({ partitionKey: row.partitionKey, rowKey: row.rowKey });
      if (keys.length >= limit) return keys;
    }
  }
  return keys;
}

async function deleteChunk(client: TableClient, partitionKey: string, rowKeys: readonly string[]): Promise<void> {
  const actions: TransactionAction[] = rowKeys.map((rowKey) => ['delete', { partitionKey, rowKey }]);
  try {
    if (actions.length === 1) await client.deleteEntity(partitionKey, rowKeys[0] as string);
    else await client.submitTransaction(actions);
  } catch (error) {
    if (!hasStatus(error, 404)) throw error;
    // One row of the transaction was gone already (the whole transaction is refused then): one by one.
    for (const rowKey of rowKeys) {
      try {
        await client.deleteEntity(partitionKey, rowKey);
      } catch (single) {
        if (!hasStatus(single, 404)) throw single;
      }
    }
  }
}
