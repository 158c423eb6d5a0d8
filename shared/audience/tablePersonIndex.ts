import { createHash } from 'node:crypto';
import type { StorageConnection } from '../settings';
import { toKey } from '../storage/conversationKeys';
import type { StoredConversation } from '../storage/conversationStore';
import { hasStatus, Table, TableUnavailableError, type TableOptions } from '../storage/tableClient';
import type { PersonIndex } from './personIndex';

/** The index lives beside the references it points to: the conversations table's name (its first 57 characters) with `people` after it. */
export function personIndexTableFor(conversationsTable: string): string {
  return `${conversationsTable.slice(0, 57)}people`;
}

export class PersonIndexUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Person index table', operation, cause);
    this.name = 'PersonIndexUnavailableError';
  }
}

/**
 * The person index in its own table: PartitionKey the tenant and one of 16
 * buckets (a tenant's tens of thousands of people are not one partition),
 * RowKey the Entra object id, the reference as JSON: one point read.
 */
export class TablePersonIndex implements PersonIndex {
  private readonly table: Table;

  constructor(connection: StorageConnection, tableName: string, options: TableOptions = {}) {
    this.table = new Table(connection, tableName, (operation, cause) => new PersonIndexUnavailableError(operation, cause), options);
  }

  async get(tenantId: string, aadObjectId: string): Promise<StoredConversation | undefined> {
    const { partitionKey, rowKey } = keysOf(tenantId, aadObjectId);
    return this.table.call('get', async (client) => {
      try {
        const entity = await client.getEntity<{ conversation: string }>(partitionKey, rowKey);
        const parsed = JSON.parse(entity.conversation) as StoredConversation & { updatedAt: string };
        return { ...parsed, updatedAt: new Date(parsed.updatedAt) };
      } catch (error) {
        if (hasStatus(error, 404)) return undefined;
        throw error;
      }
    });
  }

  async put(conversation: StoredConversation): Promise<void> {
    const keys = keysOf(conversation.tenantId, conversation.aadObjectId);
    await this.table.call('put', (client) => client.upsertEntity({ ...keys, conversation: JSON.stringify(conversation) }, 'Replace'));
  }
}

function keysOf(tenantId: string, aadObjectId: string): { readonly partitionKey: string; readonly rowKey: string } {
  const id = aadObjectId.toLowerCase();
  const bucket = (createHash('sha256').update(id).digest()[0] as number) % 16;
  return { partitionKey: toKey(`${tenantId}\n${bucket.toString(16)}`), rowKey: toKey(id) };
}
