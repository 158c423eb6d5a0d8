import { odata, type TransactionAction } from '@azure/data-tables';
import { escapeKey, isHashedKey, toKey } from '../storage/conversationKeys';
import { partitionsStartingWith } from '../storage/keyRanges';
import { deleteMatchingRows } from '../storage/rowDeletion';
import type { PlannedRecipient } from '../audience/plannedRecipient';
import type { StoredConversation } from '../storage/conversationStore';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, type TableOptions } from '../storage/tableClient';

/**
 * The `notificationrecipients` table: the audience of each notification as
 * the planner found it, one partition per notification and tenant, in
 * planning order. Recipients are stored in chunks (a row holds the recipients
 * of one tenant in one planner step, up to about 30,000 characters of JSON:
 * 60-100 of them), so a 100,000-recipient notification is about 1,500 rows to
 * write, read and scan instead of 100,000. RowKeys are the planner's step and
 * chunk, so rows appended by later steps always sort after a delivery cursor,
 * and a delivery work item is just "this partition, after this RowKey".
 *
 * A snapshot, so work items never depend on the conversation table's paging
 * (which shifts as references are added or pruned), and a tenant's
 * recipients are read without scanning everybody else's.
 */

export const defaultAudienceTable = 'notificationrecipients';

/** One recipient; `rowKey` is the chunk it is stored in (shared by the recipients of that chunk). */
export interface AudienceRow {
  readonly rowKey: string;
  readonly recipient: PlannedRecipient;
}

export class AudienceTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Notification recipients table', operation, cause);
    this.name = 'AudienceTableUnavailableError';
  }
}

/** Position of a chunk: the planner's page count where its step began, then chunk in the step; fixed width so text order is planning order. */
export function audienceRowKey(page: number, chunk: number): string {
  return `${String(page).padStart(10, '0')}${String(chunk).padStart(5, '0')}`;
}

/** Characters of JSON per chunk: a string property holds at most 64 KiB of UTF-16 (32,768 characters). */
const maxChunkChars = 30_000;
/** Chunk characters per transaction: a transaction's body may be 4 MiB, and JSON escaping adds to each chunk. */
const maxTransactionChars = 2_000_000;

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

  /**
   * Writes one planner step's recipients of a tenant, in chunks. Upserts (a planner redoing a step after
   * a crash writes the same rows again), in transactions within Azure's 100 rows and 4 MiB.
   */
  async write(id: string, tenantId: string, page: number, conversations: readonly PlannedRecipient[]): Promise<void> {
    const partitionKey = audiencePartition(id, tenantId);
    let transaction: TransactionAction[] = [];
    let chars = 0;
    const submit = async (): Promise<void> => {
      const actions = transaction;
      transaction = [];
      chars = 0;
      if (actions.length > 0) await this.table.call('write', (client) => client.submitTransaction(actions));
    };
    for (const [index, chunk] of chunksOf(conversations).entries()) {
      if (transaction.length === 100 || chars + chunk.length > maxTransactionChars) await submit();
      transaction.push(['upsert', { partitionKey, rowKey: audienceRowKey(page, index), conversations: chunk }, 'Replace']);
      chars += chunk.length;
    }
    await submit();
  }

  /**
   * Deletes up to `budget` audience rows of the notification (retention); returns how many, fewer
   * than `budget` when none is left. Its partitions are found by their common prefix (the id and a
   * newline, escaped); a tenant id so long that its partition key is hashed is found by name.
   */
  async remove(id: string, tenantIds: readonly string[], budget: number): Promise<number> {
    let deleted = await deleteMatchingRows(this.table, 'remove', partitionsStartingWith(escapeKey(`${id}\n`)), budget);
    for (const tenantId of tenantIds) {
      const partitionKey = audiencePartition(id, tenantId);
      if (isHashedKey(partitionKey)) deleted += await deleteMatchingRows(this.table, 'remove', odata`PartitionKey eq ${partitionKey}`, budget - deleted);
    }
    return deleted;
  }

  /** The recipients of a tenant after the cursor, in planning order: whole chunks, until at least `limit` recipients. */
  async read(id: string, tenantId: string, after: string, limit: number): Promise<AudienceRow[]> {
    const partitionKey = audiencePartition(id, tenantId);
    const filter = odata`PartitionKey eq ${partitionKey} and RowKey gt ${after}`;
    return this.table.call('read', async (client) => {
      const rows: AudienceRow[] = [];
      const pages = client.listEntities<{ conversations?: string; conversation?: string }>({ queryOptions: { filter } }).byPage({ maxPageSize: 50 });
      for await (const page of pages) {
        for (const entity of page) {
          if (rows.length >= limit) return rows;
          const rowKey = entity.rowKey ?? '';
          for (const recipient of recipientsOf(entity)) rows.push({ rowKey, recipient });
        }
      }
      return rows;
    });
  }

  /**
   * A tenant's chunks from `from` on (that chunk included), in planning order, a page of 50 rows
   * from storage at a time: a reader holds one page, never the whole audience (the export).
   */
  async *chunks(id: string, tenantId: string, from = ''): AsyncGenerator<AudienceChunk> {
    const partitionKey = audiencePartition(id, tenantId);
    const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${from}`;
    const pages = this.table.client.listEntities<{ conversations?: string; conversation?: string }>({ queryOptions: { filter } }).byPage({ maxPageSize: 50 });
    for (;;) {
      const page = await this.table.call('read', () => pages.next());
      if (page.done === true) return;
      for (const entity of page.value) yield { rowKey: entity.rowKey ?? '', recipients: recipientsOf(entity) };
    }
  }
}

/** One stored chunk: its RowKey and its recipients, in planning order. */
export interface AudienceChunk {
  readonly rowKey: string;
  readonly recipients: readonly PlannedRecipient[];
}

/** JSON arrays of recipients, each within `maxChunkChars`. */
function chunksOf(conversations: readonly PlannedRecipient[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let chars = 2;
  for (const conversation of conversations) {
    const json = JSON.stringify(conversation);
    if (current.length > 0 && chars + json.length + 1 > maxChunkChars) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      chars = 2;
    }
    current.push(json);
    chars += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(',')}]`);
  return chunks;
}

/** A chunk row's recipients (a row written before chunks holds one, in `conversation`); persons and unreached entries have a `kind`. */
function recipientsOf(entity: { conversations?: string; conversation?: string }): PlannedRecipient[] {
  const parsed: unknown = JSON.parse(entity.conversations ?? `[${entity.conversation ?? ''}]`);
  return (parsed as Array<PlannedRecipient & { updatedAt?: string }>).map((recipient) =>
    'kind' in recipient ? recipient : ({ ...recipient, updatedAt: new Date(recipient.updatedAt as unknown as string) } as StoredConversation),
  );
}
