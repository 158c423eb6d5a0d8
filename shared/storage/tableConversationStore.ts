import { odata, type TableEntityResult } from '@azure/data-tables';
import {
  defaultPageSize,
  matchesFilter,
  type ConversationFilter,
  type ConversationKey,
  type ConversationPage,
  type ConversationStore,
  type DeleteCondition,
  type ListOptions,
  type StoredConversation,
  type StoredTeam,
} from './conversationStore';
import { listStoredTeams } from './storedTeams';
import { partitionsStartingWith } from './keyRanges';
import { isLegacyPartitionKey, keyOf, legacyKeyOf, partitionPrefix, toKey, type TableKeys } from './conversationKeys';
import { migrateLegacyKeys } from './legacyKeyMigration';
import type { Logger } from '../logger';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, hasStatus, type TableOptions } from './tableClient';

/** The table could not be reached or refused us: an outage or a misconfiguration, not bad input. */
export class StoreUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Conversation table', operation, cause);
    this.name = 'StoreUnavailableError';
  }
}

export type TableConversationStoreOptions = TableOptions;

/** Columns of one row; PartitionKey and RowKey come from conversationKeys.ts. */
interface ConversationEntity {
  partitionKey: string;
  rowKey: string;
  /** The full ConversationReference as JSON. */
  reference: string;
  channelId: string;
  /** The full id: a long id is stored under a hashed RowKey. */
  conversationId: string;
  tenantId: string;
  userId: string;
  aadObjectId: string;
  conversationType: string;
  serviceUrl: string;
  /** Teams channels: absent on rows stored before teams were captured. */
  teamId?: string;
  teamName?: string;
  updatedAt: Date;
}

/** Azure Table accepts at most 15 comparisons in one $filter. */
const maxServerComparisons = 15;

export class TableConversationStore implements ConversationStore {
  private readonly table: Table;
  /** Until a migration has found no row of the first key scheme, point operations look under the old keys too. */
  private legacyRowsGone = false;
  private migration: Promise<void> | undefined;

  constructor(
    connection: StorageConnection,
    tableName: string,
    private readonly logger?: Logger,
    options: TableConversationStoreOptions = {},
  ) {
    this.table = new Table(connection, tableName, (operation, cause) => new StoreUnavailableError(operation, cause), options);
  }

  /**
   * Moves rows of the first key scheme to the current one, once per store (a
   * failed run is tried again by the next call). Listings wait for it, so that
   * a tenant's listing misses nobody; point operations start it and go on.
   */
  migrated(): Promise<void> {
    if (this.legacyRowsGone) return Promise.resolve();
    this.migration ??= this.table.call('migrate', (client) => migrateLegacyKeys(client, this.logger)).then(
      ({ unsettled }) => {
        // Rows without ids (logged) cannot be found by a lookup anyway; rows still changing are tried again.
        this.legacyRowsGone = unsettled === 0;
        if (!this.legacyRowsGone) this.migration = undefined;
      },
      (error: unknown) => {
        this.migration = undefined;
        throw error;
      },
    );
    return this.migration;
  }

  private startMigration(): void {
    this.migrated().catch((error: unknown) => this.logger?.warn(`Conversation table: moving old keys failed, tried again later (${String(error)})`));
  }

  async upsert(conversation: StoredConversation): Promise<void> {
    this.startMigration();
    await this.table.call('upsert', async (client) => client.upsertEntity(toEntity(conversation), 'Replace'));
    if (!this.legacyRowsGone) await this.deleteAt(legacyKeyOf(conversation), {});
  }

  async insert(conversation: StoredConversation): Promise<boolean> {
    this.startMigration();
    if (!this.legacyRowsGone && (await this.getAt(legacyKeyOf(conversation), conversation)) !== undefined) return false;
    return this.table.call('insert', async (client) => {
      try {
        await client.createEntity(toEntity(conversation));
        return true;
      } catch (error) {
        if (hasStatus(error, 409)) return false;
        throw error;
      }
    });
  }

  async get(key: ConversationKey): Promise<StoredConversation | undefined> {
    this.startMigration();
    for (const keys of await this.candidateKeys(key)) {
      const found = await this.getAt(keys, key);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  async delete(key: ConversationKey, condition: DeleteCondition = {}): Promise<boolean> {
    this.startMigration();
    let deleted = false;
    for (const keys of await this.candidateKeys(key)) deleted = (await this.deleteAt(keys, condition)) || deleted;
    return deleted;
  }

  /** Where the conversation may be: its key, the old key while old rows may remain, or (no tenant given) wherever a query finds it. */
  private async candidateKeys(key: ConversationKey): Promise<TableKeys[]> {
    const { tenantId } = key;
    if (tenantId !== undefined) return this.legacyRowsGone ? [keyOf({ ...key, tenantId })] : [keyOf({ ...key, tenantId }), legacyKeyOf(key)];
    const rowKey = toKey(key.conversationId);
    return this.table.call('find', async (client) => {
      const found: TableKeys[] = [];
      const rows = client.listEntities<Pick<ConversationEntity, 'channelId'>>({
        queryOptions: { filter: odata`RowKey eq ${rowKey} and channelId eq ${key.channelId}`, select: ['PartitionKey', 'RowKey'] },
      });
      for await (const { partitionKey, rowKey } of rows) if (partitionKey !== undefined && rowKey !== undefined) found.push({ partitionKey, rowKey });
      return found;
    });
  }

  private async getAt({ partitionKey, rowKey }: TableKeys, key: ConversationKey): Promise<StoredConversation | undefined> {
    const entity = await this.table.call('get', async (client) => {
      try {
        return await client.getEntity<Partial<ConversationEntity>>(partitionKey, rowKey);
      } catch (error) {
        if (hasStatus(error, 404)) return undefined;
        throw error;
      }
    });
    if (entity === undefined) return undefined;
    const conversation = this.fromEntity(entity);
    // A hashed long id could collide; the full ids stored beside it decide.
    const same =
      conversation?.channelId === key.channelId &&
      conversation.conversationId === key.conversationId &&
      (key.tenantId === undefined || isLegacyPartitionKey(partitionKey) || conversation.tenantId === key.tenantId);
    return same ? conversation : undefined;
  }

  private async deleteAt({ partitionKey, rowKey }: TableKeys, { notUpdatedAfter }: DeleteCondition): Promise<boolean> {
    return this.table.call('delete', async (client) => {
      try {
        if (notUpdatedAfter === undefined) {
          await client.deleteEntity(partitionKey, rowKey);
          return true;
        }
        const stored = await client.getEntity<Pick<ConversationEntity, 'updatedAt'>>(partitionKey, rowKey, {
          queryOptions: { select: ['updatedAt'] },
        });
        if (stored.updatedAt instanceof Date && stored.updatedAt > notUpdatedAfter) return false;
        // The etag makes the check and the delete one step: a row saved again in between is kept.
        await client.deleteEntity(partitionKey, rowKey, { etag: stored.etag });
        return true;
      } catch (error) {
        if (hasStatus(error, 404) || hasStatus(error, 412)) return false;
        throw error;
      }
    });
  }

  /**
   * One page of one of the listing's queries (one per tenant prefix, in key
   * order); the continuation token says which query and where in it.
   */
  async list({ filter, continuationToken, pageSize = defaultPageSize }: ListOptions = {}): Promise<ConversationPage> {
    const queries = serverQueries(filter);
    if (queries.length === 0) return { items: [] };
    await this.migrated();
    const { query, inner } = parseToken(continuationToken, queries.length);
    const page = await this.table.call('list', async (client) => {
      const pages = client
        .listEntities<Partial<ConversationEntity>>({ queryOptions: queries[query] === undefined ? {} : { filter: queries[query] } })
        .byPage({ maxPageSize: pageSize, ...(inner === undefined ? {} : { continuationToken: inner }) });
      const next = await pages.next();
      return next.done ? undefined : next.value;
    });
    const items: StoredConversation[] = [];
    for (const entity of page ?? []) {
      const conversation = this.fromEntity(entity);
      // The server filter may be partial or absent; this keeps the memory store's exact semantics.
      if (conversation !== undefined && matchesFilter(conversation, filter)) items.push(conversation);
    }
    const next =
      page?.continuationToken !== undefined ? `${query}:${page.continuationToken}` : query + 1 < queries.length ? `${query + 1}:` : undefined;
    return next === undefined ? { items } : { items, continuationToken: next };
  }

  async listTeams(tenantId?: string): Promise<StoredTeam[]> {
    return listStoredTeams(this, tenantId);
  }

  private fromEntity(entity: TableEntityResult<Partial<ConversationEntity>>): StoredConversation | undefined {
    const where = `row ${entity.partitionKey ?? '?'}/${entity.rowKey ?? '?'}`;
    let reference: unknown;
    try {
      reference = JSON.parse(String(entity.reference));
    } catch (error) {
      this.logger?.warn(`Skipping conversation ${where}: its reference is not valid JSON (${String(error)})`);
      return undefined;
    }
    if (typeof reference !== 'object' || reference === null || !(entity.updatedAt instanceof Date)) {
      this.logger?.warn(`Skipping conversation ${where}: its reference or updatedAt column is malformed`);
      return undefined;
    }
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    return {
      reference,
      channelId: text(entity.channelId),
      conversationId: text(entity.conversationId),
      serviceUrl: text(entity.serviceUrl),
      tenantId: text(entity.tenantId),
      userId: text(entity.userId),
      aadObjectId: text(entity.aadObjectId),
      conversationType: text(entity.conversationType),
      ...(typeof entity.teamId === 'string' && entity.teamId !== '' ? { teamId: entity.teamId } : {}),
      ...(typeof entity.teamName === 'string' && entity.teamName !== '' ? { teamName: entity.teamName } : {}),
      updatedAt: entity.updatedAt,
    };
  }
}

function toEntity(conversation: StoredConversation): ConversationEntity {
  return {
    ...keyOf(conversation),
    reference: JSON.stringify(conversation.reference),
    channelId: conversation.channelId,
    conversationId: conversation.conversationId,
    tenantId: conversation.tenantId,
    userId: conversation.userId,
    aadObjectId: conversation.aadObjectId,
    conversationType: conversation.conversationType,
    serviceUrl: conversation.serviceUrl,
    ...(conversation.teamId === undefined ? {} : { teamId: conversation.teamId }),
    ...(conversation.teamName === undefined ? {} : { teamName: conversation.teamName }),
    updatedAt: conversation.updatedAt,
  };
}

/** A token of this store is `<query index>:<the table's token>`; any other (one saved by an older version) resumes the first query. */
function parseToken(token: string | undefined, queries: number): { query: number; inner?: string } {
  const match = token === undefined ? null : /^(\d+):(.*)$/s.exec(token);
  if (match === null) return token === undefined || token === '' ? { query: 0 } : { query: 0, inner: token };
  const query = Math.min(Number(match[1]), queries - 1);
  return match[2] === '' ? { query } : { query, inner: match[2] };
}

/** More prefixes than this (tenants times channels) and the channels are compared as a column instead. */
const maxPrefixes = 64;

/**
 * The queries a listing runs one after the other, each a $filter (undefined:
 * the whole table); none when the filter matches nothing. With tenant ids,
 * each query is one tenant's PartitionKey range (or one tenant in one
 * channel), so Azure reads only those partitions; the other fields are
 * compared within it.
 */
function serverQueries(filter: ConversationFilter | undefined): (string | undefined)[] {
  if (filter === undefined) return [undefined];
  const tenants = filter.tenantIds === undefined ? undefined : [...new Set(filter.tenantIds)].filter((id) => id !== '');
  const channels = filter.channelIds === undefined ? undefined : [...new Set(filter.channelIds)].filter((id) => id !== '');
  if (tenants?.length === 0 || channels?.length === 0) return [];
  const perChannel = tenants !== undefined && channels !== undefined && tenants.length * channels.length <= maxPrefixes;
  const prefixes =
    tenants === undefined ? [] : tenants.flatMap((tenant) => (perChannel ? (channels ?? []).map((channel) => partitionPrefix(tenant, channel)) : [partitionPrefix(tenant)]));
  const rest = columnFilter({ ...filter, tenantIds: undefined, channelIds: perChannel ? undefined : filter.channelIds }, prefixes.length > 0 ? 2 : 0);
  if (rest.matchesNothing) return [];
  if (prefixes.length === 0) return [rest.filter];
  return [...new Set(prefixes)].sort().map((prefix) => {
    const range = partitionsStartingWith(prefix);
    return rest.filter === undefined ? range : `${range} and ${rest.filter}`;
  });
}

type ServerFilter = { readonly matchesNothing: true } | { readonly matchesNothing: false; readonly filter?: string };

/**
 * The part of the filter the server can apply on columns: whole fields,
 * smallest first, while they fit in Azure's limit of comparisons (less those
 * `used` by a key range). An empty list of alternatives matches nothing, as
 * in matchesFilter.
 */
function columnFilter(filter: ConversationFilter, used: number): ServerFilter {
  interface Field { readonly comparisons: string[]; readonly count: number }
  const field = (values: readonly string[] | undefined, compare: (value: string) => string, perValue = 1): Field[] =>
    values === undefined ? [] : [{ comparisons: values.map(compare), count: values.length * perValue }];
  // Conversation ids are compared as keys: escaped keys are plain ASCII.
  const fields = [
    ...field(filter.channelIds, (id) => odata`channelId eq ${id}`),
    ...field(filter.conversationIds, (id) => odata`RowKey eq ${toKey(id)}`),
    ...field(filter.tenantIds, (id) => odata`tenantId eq ${id}`),
    ...field(filter.conversationTypes, (type) => odata`conversationType eq ${type}`),
    ...field(filter.userIds, (id) => odata`userId eq ${id} or aadObjectId eq ${id}`, 2),
  ];
  if (fields.some(({ count }) => count === 0)) return { matchesNothing: true };

  const clauses: string[] = [];
  for (const { comparisons, count } of fields.sort((a, b) => a.count - b.count)) {
    if (used + count > maxServerComparisons) break;
    used += count;
    clauses.push(`(${comparisons.join(' or ')})`);
  }
  return clauses.length === 0 ? { matchesNothing: false } : { matchesNothing: false, filter: clauses.join(' and ') };
}
