import { createHash } from 'node:crypto';
import { odata, type TransactionAction } from '@azure/data-tables';
import type { PersonClaims } from '../audience/personClaims';
import { toKey } from '../storage/conversationKeys';
import { hasStatus, Table, type TableOptions } from '../storage/tableClient';
import type { StorageConnection } from '../settings';
import { AudienceTableUnavailableError, defaultAudienceTable } from './audienceTable';

/**
 * Person claims in the `notificationrecipients` table, beside the audience
 * chunks: partitions `<id>\n<tenant>\nclaims\n<bucket>` (16 buckets by a hash
 * of the key, so one notification's 50,000 people are not one partition:
 * Azurite scans a partition on each write, Azure serves about 2,000
 * entities/s per partition), one row per key holding the step that claimed
 * it. Retention removes them with the audience (same id prefix).
 *
 * Inserts go 100 to a transaction; a transaction refused because one of its
 * rows exists (someone already claimed) is redone row by row, reading the
 * holder of each existing row.
 */
export class TablePersonClaims implements PersonClaims {
  private readonly table: Table;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(connection, options.tableName ?? defaultAudienceTable, (operation, cause) => new AudienceTableUnavailableError(operation, cause), options);
  }

  async claim(id: string, tenantId: string, page: number, keys: readonly string[]): Promise<ReadonlySet<string>> {
    const byPartition = new Map<string, string[]>();
    for (const key of keys) {
      const partitionKey = claimPartition(id, tenantId, key);
      byPartition.set(partitionKey, [...(byPartition.get(partitionKey) ?? []), key]);
    }
    const owned = new Set<string>();
    await Promise.all(
      [...byPartition].map(async ([partitionKey, partitionKeys]) => {
        for (let start = 0; start < partitionKeys.length; start += 100) {
          const group = partitionKeys.slice(start, start + 100);
          for (const key of await this.claimGroup(partitionKey, group, page)) owned.add(key);
        }
      }),
    );
    return owned;
  }

  private async claimGroup(partitionKey: string, keys: readonly string[], page: number): Promise<string[]> {
    const actions: TransactionAction[] = keys.map((key) => ['create', { partitionKey, rowKey: toKey(key), page }]);
    const allNew = await this.table.call('claim', async (client) => {
      try {
        await client.submitTransaction(actions);
        return true;
      } catch (error) {
        if (hasStatus(error, 409)) return false;
        throw error;
      }
    });
    if (allNew) return [...keys];
    const owned: string[] = [];
    for (const key of keys) if ((await this.claimOne(partitionKey, key, page)) === page) owned.push(key);
    return owned;
  }

  /** The step that holds the key: this one when it was free. */
  private async claimOne(partitionKey: string, key: string, page: number): Promise<number> {
    const rowKey = toKey(key);
    return this.table.call('claim', async (client) => {
      try {
        await client.createEntity({ partitionKey, rowKey, page });
        return page;
      } catch (error) {
        if (!hasStatus(error, 409)) throw error;
        const held = await client.getEntity<{ page: number }>(partitionKey, rowKey, { queryOptions: { select: ['page'] } });
        return Number(held.page);
      }
    });
  }
}

const buckets = 16;

function claimPartition(id: string, tenantId: string, key: string): string {
  const bucket = createHash('sha256').update(key).digest()[0]! % buckets;
  return toKey(`${id}\n${tenantId}\nclaims\n${bucket.toString(16)}`);
}

/** The filter of a notification tenant's claim rows (tests, diagnostics). */
export function claimsFilter(id: string, tenantId: string): string {
  const partitions = Array.from({ length: buckets }, (_, bucket) => toKey(`${id}\n${tenantId}\nclaims\n${bucket.toString(16)}`));
  return partitions.map((partitionKey) => odata`PartitionKey eq ${partitionKey}`).join(' or ');
}
