import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { Activity } from 'botbuilder';
import type { RecipientFailure } from '../delivery/broadcastTypes';
import type { AcknowledgeOptions } from '../engagement/acknowledgementCard';
import { escapeKey, toKey } from '../storage/conversationKeys';
import type { ConversationFilter } from '../storage/conversationStore';
import type { StorageConnection } from '../settings';
import { Table, TableUnavailableError, hasStatus, type TableOptions } from '../storage/tableClient';
import { deleteMatchingRows, deleteRows } from '../storage/rowDeletion';

/**
 * The `notifications` table: what each queued notification is and how far it got.
 *
 * One partition per notification (PartitionKey = the escaped id):
 * - `status`: the request, its fingerprint, the state and the timestamps;
 * - `plan`: the planner's checkpoint (store continuation, matched so far, done);
 * - `work~<tenant>`: one per tenant: the delivery cursor, the counts of the batches
 *   finished so far, whether the work is active, done, cancelled or poisoned;
 * - `failure~<recipient>`: one per recipient not delivered (a redo overwrites it).
 * Plus two shared partitions: `~index` (newest first, for listing) and
 * `~tenantleases` (see tenantLease.ts). `~` is always escaped in ids, so no
 * notification's partition collides with them.
 *
 * Counts are exact under redelivery: a batch's counts are added to its work
 * row in the same conditional update (ETag) that moves the cursor past it,
 * so a batch is counted once, by the run that finished it.
 */

export const defaultNotificationsTable = 'notifications';

/**
 * `scheduled`: waiting for its `sendAt`, then `queued` → `running` like any other. `recalled`: its
 * send was stopped and its message is being (or has been) deleted in every chat; final.
 */
export type NotificationState = 'scheduled' | 'queued' | 'running' | 'completed' | 'cancelled' | 'failed' | 'recalled';
export const terminalStates: readonly NotificationState[] = ['completed', 'cancelled', 'failed', 'recalled'];

/** What a notification sends and to whom, as stored (the audience itself is never stored in a message). */
export interface StoredRequest {
  readonly activity: Partial<Activity>;
  readonly filter?: ConversationFilter;
  /** Present when the notification asks for acknowledgements (its button's label). */
  readonly acknowledge?: AcknowledgeOptions;
}

export interface NotificationRecord {
  readonly id: string;
  readonly fingerprint: string;
  readonly request: StoredRequest;
  /** 1 as created; each edit adds one (the request then holds the edited message). */
  readonly revision: number;
  readonly state: NotificationState;
  readonly createdAt: Date;
  /** When a scheduled notification is sent; absent for one sent at once. */
  readonly sendAt?: Date;
  readonly startedAt?: Date;
  readonly completedAt?: Date;
  /** Why the notification failed (poisoned work, a refused credential), when it did. */
  readonly error?: string;
  readonly etag: string;
}

export interface PlanRecord {
  /** Where the listing of the conversation store goes on; absent before the first page and after the last. */
  readonly continuation?: string;
  readonly pages: number;
  readonly matched: number;
  readonly done: boolean;
  readonly etag: string;
}

export type WorkState = 'active' | 'done' | 'cancelled' | 'poisoned';

export interface WorkCounts {
  readonly sent: number;
  readonly failed: number;
  readonly pruned: number;
  readonly retried: number;
  readonly alreadySent: number;
  /** Recipients skipped because they opted out (rows written before opt-out read as 0). */
  readonly optedOut: number;
}

export interface WorkRecord extends WorkCounts {
  readonly tenantId: string;
  /** RowKey of the last recipient of the last finished batch ('' before the first). */
  readonly cursor: string;
  /** The cursor a batch was last started from: equal to `cursor` when that batch did not finish (a crash, a lost lease). */
  readonly started?: string;
  readonly state: WorkState;
  /** Runs of this work item that threw (the queue retries them, then moves the message to the poison queue). */
  readonly attempts: number;
  readonly error?: string;
  readonly etag: string;
}

/** A recipient not delivered, as the engine reported it, and its tenant. */
export interface FailureRecord extends RecipientFailure {
  readonly tenantId: string;
}

export interface IndexEntry {
  readonly id: string;
  readonly createdAt: Date;
}

/** An index entry with its key, to delete it. */
export interface IndexRow extends IndexEntry {
  readonly rowKey: string;
}

/** The notifications table could not be reached or refused us. */
export class NotificationTableUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Notifications table', operation, cause);
    this.name = 'NotificationTableUnavailableError';
  }
}

/** Another worker changed the row since we read it (ETag mismatch): our view is stale. */
export class StaleRecordError extends Error {
  constructor(what: string) {
    super(`${what} was changed by another worker`);
    this.name = 'StaleRecordError';
  }
}

const statusRow = 'status';
const planRow = 'plan';
const workPrefix = 'work~';
const failurePrefix = 'failure~';
const indexPartition = '~index';
export const leasePartition = '~tenantleases';
/** A table string property holds at most 64 KiB (32K UTF-16 units); requests are split into chunks of this size. */
const chunkLength = 30_000;
/** An entity holds at most 1 MiB: 15 chunks (about 900 KB as UTF-16) leave room for the other columns. */
const maxChunks = 15;
/** Later than any createdAt: newest first is ascending (maxTime - createdAt). */
const maxTime = 9_999_999_999_999;

export const partitionOf = (id: string): string => toKey(id);
const workRowKey = (tenantId: string): string => `${workPrefix}${toKey(tenantId)}`;
/** Newest first is ascending: the time left until maxTime, fixed width. */
const indexTime = (createdAt: Date): string => String(maxTime - createdAt.getTime()).padStart(13, '0');

export class RequestTooLargeError extends Error {
  constructor(length: number) {
    super(`The notification's message and target take ${length} characters as JSON; at most ${chunkLength * maxChunks} can be stored`);
    this.name = 'RequestTooLargeError';
  }
}

export class NotificationTable {
  readonly table: Table;

  constructor(connection: StorageConnection, options: TableOptions & { readonly tableName?: string } = {}) {
    this.table = new Table(
      connection,
      options.tableName ?? defaultNotificationsTable,
      (operation, cause) => new NotificationTableUnavailableError(operation, cause),
      options,
    );
  }

  // ---- status ---------------------------------------------------------------------------------

  /** Inserts the status row; false when the id exists already. */
  async create(record: Omit<NotificationRecord, 'etag' | 'state' | 'revision'>): Promise<boolean> {
    const chunks = requestChunks(record.request);
    const created = await this.table.call('create', async (client) => {
      try {
        await client.createEntity({
          partitionKey: partitionOf(record.id),
          rowKey: statusRow,
          id: record.id,
          fingerprint: record.fingerprint,
          state: record.sendAt === undefined ? 'queued' : 'scheduled',
          createdAt: record.createdAt,
          ...(record.sendAt === undefined ? {} : { sendAt: record.sendAt }),
          ...chunks,
        });
        return true;
      } catch (error) {
        if (hasStatus(error, 409)) return false;
        throw error;
      }
    });
    return created;
  }

  /** The row that lists the notification; written after its status row (and again by a retried POST), so a listing never shows an id without one. */
  async addToIndex(id: string, createdAt: Date): Promise<void> {
    const rowKey = `${indexTime(createdAt)}~${partitionOf(id)}`;
    await this.table.call('index', (client) => client.upsertEntity({ partitionKey: indexPartition, rowKey, id, createdAt }, 'Replace'));
  }

  async get(id: string): Promise<NotificationRecord | undefined> {
    const entity = await this.getRow(partitionOf(id), statusRow, 'get');
    return entity === undefined ? undefined : toNotification(entity);
  }

  /** The state alone, cheaply (cancel checks poll it). */
  async stateOf(id: string): Promise<NotificationState | undefined> {
    const entity = await this.getRow(partitionOf(id), statusRow, 'state', ['state']);
    return entity === undefined ? undefined : (entity['state'] as NotificationState);
  }

  /**
   * Moves a notification to another state unless it is already final (a final state never changes).
   * Returns the record as it is afterwards, or undefined when the id is unknown.
   */
  async transition(
    id: string,
    to: NotificationState,
    changes: { readonly startedAt?: Date; readonly completedAt?: Date; readonly error?: string } = {},
    allowedFrom: readonly NotificationState[] = ['scheduled', 'queued', 'running'],
  ): Promise<NotificationRecord | undefined> {
    for (;;) {
      const current = await this.get(id);
      if (current === undefined || !allowedFrom.includes(current.state) || current.state === to) return current;
      try {
        await this.table.call('transition', (client) =>
          client.updateEntity({ partitionKey: partitionOf(id), rowKey: statusRow, state: to, ...changes }, 'Merge', { etag: current.etag }),
        );
        return { ...current, state: to, ...changes };
      } catch (error) {
        if (!hasStatus(error, 412)) throw error;
        // Someone else moved it meanwhile: read again and decide again.
      }
    }
  }

  /**
   * An edit: the request becomes `request` and the revision goes up by one, if nobody changed the
   * status row since `current` was read (StaleRecordError otherwise: read again and decide again).
   */
  async revise(current: NotificationRecord, request: StoredRequest): Promise<NotificationRecord> {
    const chunks = requestChunks(request);
    const revision = current.revision + 1;
    const etag = await this.conditional('revise', `Notification ${current.id}`, (client) =>
      client.updateEntity({ partitionKey: partitionOf(current.id), rowKey: statusRow, revision, ...chunks }, 'Merge', { etag: current.etag }),
    );
    return { ...current, request, revision, etag };
  }

  /** Newest first; `after` is the `next` of the previous page. */
  async list(limit: number, after?: string): Promise<{ readonly entries: IndexEntry[]; readonly next?: string }> {
    const filter = after === undefined ? odata`PartitionKey eq ${indexPartition}` : odata`PartitionKey eq ${indexPartition} and RowKey gt ${after}`;
    const rows = await this.table.call('list', async (client) => {
      const page = await client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: limit }).next();
      return page.done ? [] : page.value;
    });
    const entries = rows.slice(0, limit).map((row) => ({ id: String(row['id']), createdAt: row['createdAt'] as Date }));
    const last = rows[Math.min(rows.length, limit) - 1];
    return entries.length === limit && last?.rowKey !== undefined ? { entries, next: last.rowKey } : { entries };
  }

  /** Up to `limit` index entries created at or before `createdBefore`, newest of them first (retention). */
  async indexedBefore(createdBefore: Date, limit: number): Promise<IndexRow[]> {
    const filter = odata`PartitionKey eq ${indexPartition} and RowKey ge ${indexTime(createdBefore)}`;
    return this.table.call('index', async (client) => {
      const rows: IndexRow[] = [];
      for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(1_000, limit) })) {
        for (const row of page) {
          if (rows.length >= limit) return rows;
          rows.push({ id: String(row['id']), createdAt: row['createdAt'] as Date, rowKey: String(row.rowKey) });
        }
      }
      return rows;
    });
  }

  /**
   * Retention: deletes up to `budget` of the notification's rows other than its status row (plan, work,
   * failures); returns how many, fewer than `budget` when none is left.
   */
  removeDetails(id: string, budget: number): Promise<number> {
    return deleteMatchingRows(this.table, 'remove', odata`PartitionKey eq ${partitionOf(id)} and RowKey ne ${statusRow}`, budget);
  }

  /** Retention, last steps: the status row, then the index entry (whatever finds the notification goes last). */
  async removeStatus(id: string): Promise<void> {
    await deleteRows(this.table, 'remove', [{ partitionKey: partitionOf(id), rowKey: statusRow }]);
  }

  async removeIndexEntry(entry: IndexRow): Promise<void> {
    await deleteRows(this.table, 'remove', [{ partitionKey: indexPartition, rowKey: entry.rowKey }]);
  }

  // ---- plan -----------------------------------------------------------------------------------

  async getPlan(id: string): Promise<PlanRecord | undefined> {
    const entity = await this.getRow(partitionOf(id), planRow, 'plan');
    if (entity === undefined) return undefined;
    return {
      ...(typeof entity['continuation'] === 'string' && entity['continuation'] !== '' ? { continuation: entity['continuation'] } : {}),
      pages: Number(entity['pages'] ?? 0),
      matched: Number(entity['matched'] ?? 0),
      done: entity['done'] === true,
      etag: entity.etag,
    };
  }

  /** The plan row, created empty if missing. */
  async ensurePlan(id: string): Promise<PlanRecord> {
    const existing = await this.getPlan(id);
    if (existing !== undefined) return existing;
    await this.table.call('plan', async (client) => {
      try {
        await client.createEntity({ partitionKey: partitionOf(id), rowKey: planRow, pages: 0, matched: 0, done: false, continuation: '' });
      } catch (error) {
        if (!hasStatus(error, 409)) throw error;
      }
    });
    const plan = await this.getPlan(id);
    if (plan === undefined) throw new StaleRecordError(`The plan of ${id}`);
    return plan;
  }

  /** The checkpoint after a page; throws StaleRecordError when another planner moved it first. */
  async savePlan(id: string, plan: Omit<PlanRecord, 'etag'>, etag: string): Promise<PlanRecord> {
    const entity = { partitionKey: partitionOf(id), rowKey: planRow, pages: plan.pages, matched: plan.matched, done: plan.done, continuation: plan.continuation ?? '' };
    const result = await this.conditional('plan', `The plan of ${id}`, (client) => client.updateEntity(entity, 'Replace', { etag }));
    return { ...plan, etag: result };
  }

  // ---- work -----------------------------------------------------------------------------------

  /** Creates a tenant's work row; false when it exists already. */
  async createWork(id: string, tenantId: string): Promise<boolean> {
    return this.table.call('work', async (client) => {
      try {
        await client.createEntity({
          partitionKey: partitionOf(id), rowKey: workRowKey(tenantId), tenantId, cursor: '', state: 'active', attempts: 0,
          sent: 0, failed: 0, pruned: 0, retried: 0, alreadySent: 0, optedOut: 0,
        });
        return true;
      } catch (error) {
        if (hasStatus(error, 409)) return false;
        throw error;
      }
    });
  }

  async getWork(id: string, tenantId: string): Promise<WorkRecord | undefined> {
    const entity = await this.getRow(partitionOf(id), workRowKey(tenantId), 'work');
    return entity === undefined ? undefined : toWork(entity);
  }

  /** Every tenant's work row of a notification. */
  async listWork(id: string): Promise<WorkRecord[]> {
    const partitionKey = partitionOf(id);
    return this.table.call('work', async (client) => {
      const rows: WorkRecord[] = [];
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${workPrefix} and RowKey lt ${'work\u007f'}`;
      for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) rows.push(toWork(row));
      return rows;
    });
  }

  /** Replaces the fields given, if nobody changed the row since `work` was read; returns the new record. */
  async updateWork(id: string, work: WorkRecord, changes: Partial<Omit<WorkRecord, 'etag' | 'tenantId'>>): Promise<WorkRecord> {
    const entity = { partitionKey: partitionOf(id), rowKey: workRowKey(work.tenantId), ...changes };
    const etag = await this.conditional('work', `The work of tenant "${work.tenantId}" of ${id}`, (client) =>
      client.updateEntity(entity, 'Merge', { etag: work.etag }),
    );
    return { ...work, ...changes, etag };
  }

  /** Notes a run of the work that threw (unconditional: the thrower may no longer hold anything). */
  async noteWorkError(id: string, tenantId: string, attempts: number, error: string): Promise<void> {
    await this.table.call('work', (client) =>
      client.updateEntity({ partitionKey: partitionOf(id), rowKey: workRowKey(tenantId), attempts, error }, 'Merge'),
    );
  }

  // ---- failures -------------------------------------------------------------------------------

  /** Writes failure rows (idempotent: one row per recipient), in transactions of up to 100. */
  async recordFailures(id: string, failures: readonly FailureRecord[]): Promise<void> {
    const partitionKey = partitionOf(id);
    const actions: TransactionAction[] = failures.map((failure) => [
      'upsert',
      {
        partitionKey,
        rowKey: `${failurePrefix}${toKey(`${failure.tenantId}\n${failure.channelId}\n${failure.conversationId}`)}`,
        ...failure,
        ...(failure.status === undefined ? {} : { status: failure.status }),
      },
      'Replace',
    ]);
    for (let i = 0; i < actions.length; i += 100) {
      const chunk = actions.slice(i, i + 100);
      await this.table.call('failures', (client) => client.submitTransaction(chunk));
    }
  }

  /** One page of failures in key order; `after` is the `next` of the previous page. */
  async listFailures(id: string, limit: number, after?: string): Promise<{ readonly failures: FailureRecord[]; readonly next?: string }> {
    const partitionKey = partitionOf(id);
    const from = after === undefined ? failurePrefix : after;
    const filter = odata`PartitionKey eq ${partitionKey} and RowKey gt ${from} and RowKey lt ${'failure\u007f'}`;
    const rows = await this.table.call('failures', async (client) => {
      const page = await client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: limit }).next();
      return page.done ? [] : page.value;
    });
    const kept = rows.slice(0, limit);
    const failures = kept.map(toFailure);
    const last = kept[kept.length - 1];
    return kept.length === limit && last?.rowKey !== undefined ? { failures, next: last.rowKey } : { failures };
  }

  /**
   * Every failure row of one tenant (the export): the rows whose key starts with the tenant's escaped
   * id, plus those whose key is hashed (too long to carry it), picked by their tenantId.
   */
  async tenantFailures(id: string, tenantId: string): Promise<FailureRecord[]> {
    const partitionKey = partitionOf(id);
    const prefix = `${failurePrefix}${escapeKey(`${tenantId}\n`)}`;
    const hashed = `${failurePrefix}~`;
    const filters = [
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${prefix} and RowKey lt ${`${prefix}\u007f`}`,
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${hashed} and RowKey lt ${`${hashed}\u007f`} and tenantId eq ${tenantId}`,
    ];
    return this.table.call('failures', async (client) => {
      const failures: FailureRecord[] = [];
      for (const filter of filters) {
        for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
          const failure = toFailure(row);
          if (failure.tenantId === tenantId) failures.push(failure);
        }
      }
      return failures;
    });
  }

  // ---- shared ---------------------------------------------------------------------------------

  private async getRow(partitionKey: string, rowKey: string, operation: string, select?: string[]): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
    return this.table.call(operation, async (client) => {
      try {
        return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey, select === undefined ? {} : { queryOptions: { select } });
      } catch (error) {
        if (hasStatus(error, 404)) return undefined;
        throw error;
      }
    });
  }

  /** An ETag-conditional write; a 412 or 404 becomes StaleRecordError. Returns the new etag. */
  private async conditional(operation: string, what: string, write: (client: TableClient) => Promise<{ etag?: string }>): Promise<string> {
    try {
      return (await this.table.call(operation, write)).etag ?? '*';
    } catch (error) {
      if (hasStatus(error, 412) || hasStatus(error, 404)) throw new StaleRecordError(what);
      throw error;
    }
  }
}

/** The request as JSON, split into columns a table property can hold, and how many there are. */
function requestChunks(request: StoredRequest): Record<string, string | number> {
  const json = JSON.stringify(request);
  if (json.length > chunkLength * maxChunks) throw new RequestTooLargeError(json.length);
  const chunks: Record<string, string | number> = {};
  let count = 0;
  for (; count * chunkLength < json.length; count++) chunks[`request${count}`] = json.slice(count * chunkLength, (count + 1) * chunkLength);
  return { requestChunks: count, ...chunks };
}

function toNotification(entity: TableEntityResult<Record<string, unknown>>): NotificationRecord {
  const chunks = Number(entity['requestChunks'] ?? 0);
  let json = '';
  for (let i = 0; i < chunks; i++) json += String(entity[`request${i}`] ?? '');
  const date = (name: string): Date | undefined => (entity[name] instanceof Date ? (entity[name] as Date) : undefined);
  const startedAt = date('startedAt');
  const completedAt = date('completedAt');
  const sendAt = date('sendAt');
  const error = typeof entity['error'] === 'string' ? entity['error'] : undefined;
  return {
    id: String(entity['id']),
    fingerprint: String(entity['fingerprint']),
    request: JSON.parse(json) as StoredRequest,
    revision: typeof entity['revision'] === 'number' ? entity['revision'] : 1,
    state: entity['state'] as NotificationState,
    createdAt: date('createdAt') ?? new Date(0),
    ...(sendAt === undefined ? {} : { sendAt }),
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(completedAt === undefined ? {} : { completedAt }),
    ...(error === undefined ? {} : { error }),
    etag: entity.etag,
  };
}

function toWork(entity: TableEntityResult<Record<string, unknown>>): WorkRecord {
  const count = (name: string): number => Number(entity[name] ?? 0);
  const started = typeof entity['started'] === 'string' ? entity['started'] : undefined;
  const error = typeof entity['error'] === 'string' && entity['error'] !== '' ? entity['error'] : undefined;
  return {
    tenantId: String(entity['tenantId'] ?? ''),
    cursor: String(entity['cursor'] ?? ''),
    ...(started === undefined ? {} : { started }),
    state: (entity['state'] as WorkState | undefined) ?? 'active',
    attempts: count('attempts'),
    ...(error === undefined ? {} : { error }),
    sent: count('sent'),
    failed: count('failed'),
    pruned: count('pruned'),
    retried: count('retried'),
    alreadySent: count('alreadySent'),
    optedOut: count('optedOut'),
    etag: entity.etag,
  };
}

function toFailure(entity: Record<string, unknown>): FailureRecord {
  const status = typeof entity['status'] === 'number' ? entity['status'] : undefined;
  return {
    tenantId: String(entity['tenantId'] ?? ''),
    channelId: String(entity['channelId'] ?? ''),
    conversationId: String(entity['conversationId'] ?? ''),
    ...(status === undefined ? {} : { status }),
    code: String(entity['code'] ?? ''),
    message: String(entity['message'] ?? ''),
    attempts: Number(entity['attempts'] ?? 0),
    pruned: entity['pruned'] === true,
  };
}
