import { odata, type TransactionAction } from '@azure/data-tables';
import { toKey } from '../storage/conversationKeys';
import type { StoredConversation } from '../storage/conversationStore';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, type TableOptions } from '../storage/tableClient';

/**
 * The `notificationrecipients` table: the audience of each notification as
 * the planner found it, one partition per notification and tenant, in
 * planning order. RowKeys are the planner's page and position, so rows
 * appended by later pages always sort after a delivery cursor, and a
 * delivery work item is just "this partition, after this RowKey".
 *
 * A snapshot, so work items never depend on the conversation table's paging
 * (which shifts as references are added or pruned), and a tenant's
 * recipients are read without scanning everybody else's.
 */

export const defaultAudienceTable = 'notificationrecipients';

export interface AudienceRow {
  readonly rowKey: string;
  readonly conversation: StoredConversation;
}

export class AudienceTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Notification recipients table', operation, cause);
    this.name = 'AudienceTableUnavailableError';
  }
}

/** Position of a recipient: planner page, then index on the page; fixed width so text order is planning order. */
export function audienceRowKey(page: number, index: number): string {
  return `${String(page).padStart(10, '0')}${String(index).padStart(5, '0')}`;
}

const audiencePartition = (id: string, tenantId: string): string => toKey(`${id}\n${tenantId}`);

export class AudienceTable {
  private readonly table: Table;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(
      connection,
      options.tableName ?? defaultAudienceTable,
      (operation, cause) => new AudienceTableUnavailableError(operation, cause),
      options,
    );
  }

  /** Upserts (a planner redoing a page after a crash writes the same rows again), 100 per transaction. */
  async write(id: string, tenantId: string, rows: readonly AudienceRow[]): Promise<void> {
    const partitionKey = audiencePartition(id, tenantId);
    const actions: TransactionAction[] = rows.map((row) => [
      'upsert',
      { partitionKey, rowKey: row.rowKey, conversation: JSON.stringify(row.conversation) },
      'Replace',
    ]);
    for (let i = 0; i < actions.length; i += 100) {
      const chunk = actions.slice(i, i + 100);
      await this.table.call('write', (client) => client.submitTransaction(chunk));
    }
  }

  /** Up to `limit` recipients of a tenant after the cursor, in planning order. */
  async read(id: string, tenantId: string, after: string, limit: number): Promise<AudienceRow[]> {
    const partitionKey = audiencePartition(id, tenantId);
    const filter = odata`PartitionKey eq ${partitionKey} and RowKey gt ${after}`;
    return this.table.call('read', async (client) => {
      const rows: AudienceRow[] = [];
      const pages = client.listEntities<{ conversation?: string }>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 1_000) });
      for await (const page of pages) {
        for (const entity of page) {
          if (rows.length >= limit) break;
          rows.push({ rowKey: entity.rowKey ?? '', conversation: parseConversation(String(entity.conversation)) });
        }
        if (rows.length >= limit) break;
      }
      return rows;
    });
  }
}

function parseConversation(json: string): StoredConversation {
  const parsed = JSON.parse(json) as StoredConversation & { updatedAt: string };
  return { ...parsed, updatedAt: new Date(parsed.updatedAt) };
}
