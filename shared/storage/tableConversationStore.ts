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
} from './conversationStore';
import { keyOf, toKey } from './conversationKeys';
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
  updatedAt: Date;
}

/** Azure Table accepts at most 15 comparisons in one $filter. */
const maxServerComparisons = 15;

export class TableConversationStore implements ConversationStore {
  private readonly table: Table;

  constructor(
    connection: StorageConnection,
    tableName: string,
    private readonly logger?: Logger,
    options: TableConversationStoreOptions = {},
  ) {
    this.table = new Table(connection, tableName, (operation, cause) => new StoreUnavailableError(operation, cause), options);
  }

  async upsert(conversation: StoredConversation): Promise<void> {
    await this.table.call('upsert', async (client) => client.upsertEntity(toEntity(conversation), 'Replace'));
  }

  async insert(conversation: StoredConversation): Promise<boolean> {
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
    const { partitionKey, rowKey } = keyOf(key);
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
    const same = conversation?.channelId === key.channelId && conversation.conversationId === key.conversationId;
    return same ? conversation : undefined;
  }

  async delete(key: ConversationKey, { notUpdatedAfter }: DeleteCondition = {}): Promise<boolean> {
    const { partitionKey, rowKey } = keyOf(key);
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

  async list({ filter, continuationToken, pageSize = defaultPageSize }: ListOptions = {}): Promise<ConversationPage> {
    const server = serverFilter(filter);
    if (server.matchesNothing) return { items: [] };
    const page = await this.table.call('list', async (client) => {
      const pages = client
        .listEntities<Partial<ConversationEntity>>({ queryOptions: { filter: server.filter } })
        .byPage({ maxPageSize: pageSize, continuationToken });
      const next = await pages.next();
      return next.done ? undefined : next.value;
    });
    const items: StoredConversation[] = [];
    for (const entity of page ?? []) {
      const conversation = this.fromEntity(entity);
      // The server filter may be partial or absent; this keeps the memory store's exact semantics.
      if (conversation !== undefined && matchesFilter(conversation, filter)) items.push(conversation);
    }
    return page?.continuationToken === undefined ? { items } : { items, continuationToken: page.continuationToken };
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
    updatedAt: conversation.updatedAt,
  };
}

type ServerFilter = { readonly matchesNothing: true } | { readonly matchesNothing: false; readonly filter?: string };

/**
 * The part of the filter the server can apply: whole fields, smallest first,
 * while they fit in Azure's limit of comparisons. An empty list of
 * alternatives matches nothing, as in matchesFilter.
 */
function serverFilter(filter: ConversationFilter | undefined): ServerFilter {
  if (filter === undefined) return { matchesNothing: false };
  interface Field { readonly comparisons: string[]; readonly count: number }
  const field = (values: readonly string[] | undefined, compare: (value: string) => string, perValue = 1): Field[] =>
    values === undefined ? [] : [{ comparisons: values.map(compare), count: values.length * perValue }];
  // Channel and conversation ids are compared as keys: escaped keys are plain ASCII.
  const fields = [
    ...field(filter.channelIds, (id) => odata`PartitionKey eq ${toKey(id)}`),
    ...field(filter.conversationIds, (id) => odata`RowKey eq ${toKey(id)}`),
    ...field(filter.tenantIds, (id) => odata`tenantId eq ${id}`),
    ...field(filter.conversationTypes, (type) => odata`conversationType eq ${type}`),
    ...field(filter.userIds, (id) => odata`userId eq ${id} or aadObjectId eq ${id}`, 2),
  ];
  if (fields.some(({ count }) => count === 0)) return { matchesNothing: true };

  const clauses: string[] = [];
  let used = 0;
  for (const { comparisons, count } of fields.sort((a, b) => a.count - b.count)) {
    if (used + count > maxServerComparisons) break;
    used += count;
    clauses.push(`(${comparisons.join(' or ')})`);
  }
  return clauses.length === 0 ? { matchesNothing: false } : { matchesNothing: false, filter: clauses.join(' and ') };
}

