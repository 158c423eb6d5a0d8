import { odata, type TableClient, type TableEntity, type TableEntityResult } from '@azure/data-tables';
import { keyOf, keySchemeEnd, keySchemePrefix, type TableKeys } from './conversationKeys';
import type { Logger } from '../logger';
import { hasStatus } from './tableClient';

/** Every row whose PartitionKey is not of the current scheme: the two ranges around `~2,...`. */
const legacyRanges = [odata`PartitionKey lt ${keySchemePrefix}`, odata`PartitionKey ge ${keySchemeEnd}`];
/** A pass that met rows changed under it is run again; a row still changing after this many is left for the next start. */
const maxPasses = 5;
const parallelMoves = 16;

type RawRow = TableEntityResult<Record<string, unknown>>;
type MoveResult = 'moved' | 'changed' | 'unkeyed';

export interface MigrationResult {
  readonly moved: number;
  /** Rows without the id columns a key is made of: left where they are, and logged. */
  readonly unkeyed: number;
  /** Rows still changing after every pass (an older app version still writing them): moved at a later start. */
  readonly unsettled: number;
}

/**
 * Moves every row saved under the first key scheme (PartitionKey = channel id)
 * to its current key. A row is copied first and the old one deleted only
 * after, with its etag: a crash in between leaves both, and the next run
 * finds the copy and deletes the old row. Where the current key already holds
 * a row (the bot saved the conversation again meanwhile), the newer of the two
 * is kept. Idempotent, so it is safe to run at every start and from several
 * instances at once.
 */
export async function migrateLegacyKeys(client: TableClient, logger?: Logger): Promise<MigrationResult> {
  let moved = 0;
  let unkeyed = 0;
  for (let pass = 1; pass <= maxPasses; pass++) {
    let changed = 0;
    unkeyed = 0;
    for (const filter of legacyRanges) {
      for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: 1000 })) {
        const results = await inParallel(page, parallelMoves, (row) => moveRow(client, row));
        moved += results.filter((result) => result === 'moved').length;
        changed += results.filter((result) => result === 'changed').length;
        unkeyed += results.filter((result) => result === 'unkeyed').length;
      }
    }
    if (changed === 0 || pass === maxPasses) {
      if (moved > 0) logger?.log(`Conversation table: moved ${moved} reference(s) from channel partitions to tenant partitions`);
      if (unkeyed > 0) logger?.warn(`Conversation table: ${unkeyed} row(s) in channel partitions lack channelId or conversationId and were left in place`);
      if (changed > 0) logger?.warn(`Conversation table: ${changed} row(s) in channel partitions kept changing; they move at the next start`);
      return { moved, unkeyed, unsettled: changed };
    }
  }
  return { moved, unkeyed, unsettled: 0 };
}

async function moveRow(client: TableClient, row: RawRow): Promise<MoveResult> {
  const { channelId, conversationId, tenantId, partitionKey, rowKey } = row;
  if (typeof channelId !== 'string' || typeof conversationId !== 'string' || partitionKey === undefined || rowKey === undefined) return 'unkeyed';
  const target = keyOf({ channelId, conversationId, tenantId: typeof tenantId === 'string' ? tenantId : '' });
  const copy: TableEntity = { ...columnsOf(row), ...target };
  try {
    await client.createEntity(copy);
  } catch (error) {
    if (!hasStatus(error, 409)) throw error;
    if (!(await keepNewer(client, target, copy))) return 'changed';
  }
  try {
    await client.deleteEntity(partitionKey, rowKey, { etag: row.etag });
  } catch (error) {
    if (hasStatus(error, 404)) return 'moved';
    if (hasStatus(error, 412)) return 'changed';
    throw error;
  }
  return 'moved';
}

/** The current key already holds a row: replace it only if the old row is newer. False when it changed meanwhile. */
async function keepNewer(client: TableClient, target: TableKeys, copy: TableEntity): Promise<boolean> {
  let current: TableEntityResult<Record<string, unknown>>;
  try {
    current = await client.getEntity<Record<string, unknown>>(target.partitionKey, target.rowKey, { queryOptions: { select: ['updatedAt'] } });
  } catch (error) {
    if (hasStatus(error, 404)) return false; // deleted meanwhile: the next pass copies the row again
    throw error;
  }
  const isNewer = (value: unknown, than: unknown): boolean => value instanceof Date && (!(than instanceof Date) || value > than);
  if (!isNewer(copy.updatedAt, current.updatedAt)) return true;
  try {
    await client.updateEntity(copy, 'Replace', { etag: current.etag });
    return true;
  } catch (error) {
    if (hasStatus(error, 412)) return false;
    throw error;
  }
}

/** The row's own columns, without what the service adds to a read (etag, timestamp, metadata). */
function columnsOf(row: RawRow): Record<string, unknown> {
  const { etag: _etag, timestamp: _timestamp, partitionKey: _partitionKey, rowKey: _rowKey, ...columns } = row as RawRow & { timestamp?: unknown };
  for (const name of Object.keys(columns)) if (name.startsWith('odata.')) delete columns[name];
  return columns;
}

async function inParallel<T, R>(items: readonly T[], limit: number, action: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await action(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
