import { odata, type TableEntityResult } from '@azure/data-tables';
import { toKey } from '../storage/conversationKeys';
import { hasStatus, type Table } from '../storage/tableClient';
import { partitionOf, StaleRecordError } from './notificationTable';

/**
 * The checkpoints of passes over a notification's ledger (ledgerPass.ts), in the notifications table
 * beside its other rows: one row `pass~<pass>~<tenant>` per pass and tenant, with the cursor in the
 * tenant's audience, the counts of the batches finished so far and whether the pass goes on. Like a
 * tenant's work row, a batch's counts are added in the same conditional write that moves the cursor.
 */

export type PassState =
  | 'active'
  | 'done'
  /** A later pass of the same kind took over (an edit made while an earlier edit was still being applied). */
  | 'superseded'
  /** The notification was recalled meanwhile: an edit stops. */
  | 'cancelled'
  | 'poisoned';

export interface PassCounts {
  /** Chats the action succeeded on (updated, removed, reminded). */
  readonly done: number;
  readonly failed: number;
  /** Of `failed`: references deleted because the conversation is gone for good. */
  readonly pruned: number;
  readonly retried: number;
  /** Delivered chats the pass found it had nothing to do for (already showing the revision, already removed). */
  readonly unchanged: number;
}

export interface PassRecord extends PassCounts {
  readonly pass: string;
  readonly tenantId: string;
  readonly cursor: string;
  /** The cursor a batch was last started from: equal to `cursor` when that batch did not finish. */
  readonly started?: string;
  readonly state: PassState;
  readonly attempts: number;
  readonly error?: string;
  readonly etag: string;
}

const passPrefix = 'pass~';
const passRowKey = (pass: string, tenantId: string): string => `${passPrefix}${toKey(pass)}~${toKey(tenantId)}`;

export class PassTable {
  constructor(private readonly table: Table) {}

  /** Creates the pass's row for a tenant; false when it exists already. */
  async create(id: string, pass: string, tenantId: string): Promise<boolean> {
    return this.table.call('pass', async (client) => {
      try {
        await client.createEntity({
          partitionKey: partitionOf(id), rowKey: passRowKey(pass, tenantId), pass, tenantId, cursor: '', state: 'active', attempts: 0,
          done: 0, failed: 0, pruned: 0, retried: 0, unchanged: 0,
        });
        return true;
      } catch (error) {
        if (hasStatus(error, 409)) return false;
        throw error;
      }
    });
  }

  async get(id: string, pass: string, tenantId: string): Promise<PassRecord | undefined> {
    return this.table.call('pass', async (client) => {
      try {
        return toPass(await client.getEntity<Record<string, unknown>>(partitionOf(id), passRowKey(pass, tenantId)));
      } catch (error) {
        if (hasStatus(error, 404)) return undefined;
        throw error;
      }
    });
  }

  /** Every pass row of a notification, every pass and tenant. */
  async list(id: string): Promise<PassRecord[]> {
    const partitionKey = partitionOf(id);
    return this.table.call('pass', async (client) => {
      const rows: PassRecord[] = [];
      const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${passPrefix} and RowKey lt ${'pass\u007f'}`;
      for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) rows.push(toPass(row));
      return rows;
    });
  }

  /** Replaces the fields given, if nobody changed the row since `record` was read; returns the new record. */
  async update(id: string, record: PassRecord, changes: Partial<Omit<PassRecord, 'etag' | 'tenantId' | 'pass'>>): Promise<PassRecord> {
    const entity = { partitionKey: partitionOf(id), rowKey: passRowKey(record.pass, record.tenantId), ...changes };
    try {
      const result = await this.table.call('pass', (client) => client.updateEntity(entity, 'Merge', { etag: record.etag }));
      return { ...record, ...changes, etag: result.etag ?? '*' };
    } catch (error) {
      if (hasStatus(error, 412) || hasStatus(error, 404)) throw new StaleRecordError(`The pass "${record.pass}" of tenant "${record.tenantId}" of ${id}`);
      throw error;
    }
  }

  /** Notes a run that threw (unconditional: the thrower may no longer hold anything). */
  async noteError(id: string, pass: string, tenantId: string, attempts: number, error: string): Promise<void> {
    await this.table.call('pass', (client) =>
      client.updateEntity({ partitionKey: partitionOf(id), rowKey: passRowKey(pass, tenantId), attempts, error }, 'Merge'),
    );
  }
}

function toPass(entity: TableEntityResult<Record<string, unknown>>): PassRecord {
  const count = (name: string): number => Number(entity[name] ?? 0);
  const started = typeof entity['started'] === 'string' ? entity['started'] : undefined;
  const error = typeof entity['error'] === 'string' && entity['error'] !== '' ? entity['error'] : undefined;
  return {
    pass: String(entity['pass'] ?? ''),
    tenantId: String(entity['tenantId'] ?? ''),
    cursor: String(entity['cursor'] ?? ''),
    ...(started === undefined ? {} : { started }),
    state: (entity['state'] as PassState | undefined) ?? 'active',
    attempts: count('attempts'),
    ...(error === undefined ? {} : { error }),
    done: count('done'),
    failed: count('failed'),
    pruned: count('pruned'),
    retried: count('retried'),
    unchanged: count('unchanged'),
    etag: entity.etag,
  };
}
