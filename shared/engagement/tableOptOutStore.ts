import { odata } from '@azure/data-tables';
import { toKey } from '../storage/conversationKeys';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, hasStatus, type TableOptions } from '../storage/tableClient';
import { OptOutSet, keysOf, personKey, type OptOutStore, type Person } from './optOutStore';

/**
 * The `optouts` table: one row per person who sent "stop", one partition per tenant
 * (PartitionKey `t` + the escaped tenant id, so an empty tenant is a legal key too), RowKey the
 * escaped person key (`aad:<object id>`, else `user:<channel>\n<user id>`). The raw key is kept in
 * `person`, so a broadcast reads a tenant's opt-outs with one query per 1,000 and matches them
 * without escaping anything per recipient.
 */

export const defaultOptOutsTable = 'optouts';

export class OptOutTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Opt-out table', operation, cause);
    this.name = 'OptOutTableUnavailableError';
  }
}

const partitionOf = (tenantId: string): string => `t${toKey(tenantId)}`;

export class TableOptOutStore implements OptOutStore {
  private readonly table: Table;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(connection, options.tableName ?? defaultOptOutsTable, (operation, cause) => new OptOutTableUnavailableError(operation, cause), options);
  }

  async optOut(person: Person, at = new Date()): Promise<boolean> {
    if (await this.isOptedOut(person)) return false;
    const key = personKey(person);
    return this.table.call('optOut', async (client) => {
      try {
        await client.createEntity({
          partitionKey: partitionOf(person.tenantId),
          rowKey: toKey(key),
          person: key,
          tenantId: person.tenantId,
          channelId: person.channelId,
          userId: person.userId,
          aadObjectId: person.aadObjectId,
          optedOutAt: at,
        });
        return true;
      } catch (error) {
        if (hasStatus(error, 409)) return false;
        throw error;
      }
    });
  }

  async optIn(person: Person): Promise<boolean> {
    const partitionKey = partitionOf(person.tenantId);
    let removed = false;
    for (const key of keysOf(person)) {
      const deleted = await this.table.call('optIn', async (client) => {
        try {
          await client.deleteEntity(partitionKey, toKey(key));
          return true;
        } catch (error) {
          if (hasStatus(error, 404)) return false;
          throw error;
        }
      });
      removed = deleted || removed;
    }
    return removed;
  }

  async isOptedOut(person: Person): Promise<boolean> {
    const partitionKey = partitionOf(person.tenantId);
    for (const key of keysOf(person)) {
      const found = await this.table.call('isOptedOut', async (client) => {
        try {
          await client.getEntity(partitionKey, toKey(key), { queryOptions: { select: ['person'] } });
          return true;
        } catch (error) {
          if (hasStatus(error, 404)) return false;
          throw error;
        }
      });
      if (found) return true;
    }
    return false;
  }

  async tenant(tenantId: string): Promise<OptOutSet> {
    const filter = odata`PartitionKey eq ${partitionOf(tenantId)}`;
    const keys = await this.table.call('tenant', async (client) => {
      const found = new Set<string>();
      for await (const row of client.listEntities<{ person?: string }>({ queryOptions: { filter, select: ['person'] } })) {
        if (typeof row.person === 'string') found.add(row.person);
      }
      return found;
    });
    return new OptOutSet(keys);
  }
}
