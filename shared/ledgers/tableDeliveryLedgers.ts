import { odata, type TableEntityResult } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { escapeKey, isHashedKey, toKey } from '../storage/conversationKeys';
import { partitionsStartingWith } from '../storage/keyRanges';
import { deleteMatchingRows } from '../storage/rowDeletion';
import type { ConversationKey } from '../storage/conversationStore';
import {
  defaultGroupWindowMs,
  deliveryRowKey,
  firstRevision,
  LedgerEntryFold,
  type DeliveredChat,
  type DeliveryLedger,
  type DeliveryLedgerAccess,
  type DeliveryLedgerReading,
  type DeliveryLedgerRemoval,
  type DeliveryLedgers,
  type LedgerClaim,
  type LedgerEntry,
  type LedgerMark,
  type LedgerMarkWriter,
  type LedgerOpenOptions,
} from './deliveryLedgers';
import { Table, TableUnavailableError, hasStatus, type TableOptions } from '../storage/tableClient';
import type { StorageConnection } from '../settings';

/**
 * Which conversations already received a notification, in Azure Table
 * Storage: one partition per notification id, one row per delivered
 * conversation, plus a lease row that says whether a run holds the id and
 * which request the id belongs to. A retried request reads its partition
 * once, then skips those conversations.
 *
 * Queued notifications write their deliveries in group rows instead (`keys`: the delivery keys,
 * `activityIds`: the activity id of each, at the same index, null where the channel gave none;
 * `revision`: the notification's revision they carry; `chats`: for deliveries recorded under a person's
 * key, `[conversationId, serviceUrl]` of the chat each went to, at the same index, null for the others,
 * absent when none of the group has one). A pass over a ledger (an edit, a recall)
 * writes mark rows the same way (`keys`, `mark`, for an edit `revision`, and for a pass that sends (a reminder)
 * `activityIds`, the ids of the messages it sent): what it did to those chats.
 */

export const defaultDeliveriesTable = 'deliveries';

/** The ledger's table could not be reached or refused us: an outage or a misconfiguration. */
export class LedgerUnavailableError extends TableUnavailableError {
  constructor(operation: string, cause: unknown) {
    super('Delivery ledger table', operation, cause);
    this.name = 'LedgerUnavailableError';
  }
}

/** The row that says whether a run holds the id. `~` is always escaped in delivery keys, so no delivery row has this key. */
const leaseRowKey = '~lease';

/** Kept when released (its lease lapsed at once), so the id stays bound to its request's fingerprint. */
interface LeaseEntity {
  partitionKey: string;
  rowKey: string;
  expiresAt: Date;
  fingerprint: string;
}

interface DeliveryEntity {
  partitionKey: string;
  rowKey: string;
  channelId: string;
  /** The full id: a long one is hashed in the RowKey. */
  conversationId: string;
  deliveredAt: Date;
  /** The id the channel gave the activity, when it gave one. */
  activityId?: string;
  /** The chat it went to, for a delivery recorded under a person's key. */
  chatConversationId?: string;
  chatServiceUrl?: string;
}

/** A row as read back: a single delivery (`claim`), a group of deliveries, a group of marks, or the lease. */
type LedgerRow = Partial<DeliveryEntity> & { keys?: string; activityIds?: string; chats?: string; revision?: number; mark?: string };

type LeaseTaken = { readonly ok: true; readonly etag: string } | { readonly ok: false; readonly reason: 'running' | 'reused' };

export interface TableDeliveryLedgersOptions extends TableOptions {
  readonly tableName?: string;
}

export class TableDeliveryLedgers implements DeliveryLedgers, DeliveryLedgerAccess, DeliveryLedgerReading, DeliveryLedgerRemoval {
  private readonly table: Table;

  constructor(connection: StorageConnection, options: TableDeliveryLedgersOptions = {}) {
    const tableName = options.tableName ?? defaultDeliveriesTable;
    this.table = new Table(connection, tableName, (operation, cause) => new LedgerUnavailableError(operation, cause), options);
  }

  async claim(notificationId: string, leaseMs: number, fingerprint: string): Promise<LedgerClaim> {
    const partitionKey = toKey(notificationId);
    const lease: LeaseEntity = { partitionKey, rowKey: leaseRowKey, expiresAt: new Date(Date.now() + leaseMs), fingerprint };
    const taken = await this.table.call('claim', () => this.takeLease(lease));
    if (!taken.ok) return { claimed: false, reason: taken.reason };
    const { etag } = taken;
    let delivered: Set<string>;
    try {
      delivered = await this.table.call('read', () => this.readDelivered(partitionKey));
    } catch (error) {
      await this.releaseLease(partitionKey, etag);
      throw error;
    }
    return {
      claimed: true,
      ledger: {
        wasDelivered: async (key) => delivered.has(deliveryRowKey(key)),
        recordDelivered: async (key, activityId, chat) => {
          await this.record(partitionKey, key, activityId, chat);
          delivered.add(deliveryRowKey(key));
        },
      },
      release: () => this.releaseLease(partitionKey, etag),
    };
  }

  /**
   * A ledger for one writer (queued notifications: the tenant's lease holder). Deliveries are written
   * in groups: each `recordDelivered` resolves once a row listing it (with whatever else was recorded
   * within `groupWindowMs`, up to 100) is stored, so a caller that awaits it (the engine does,
   * before it counts a recipient done) never moves on before the record exists, and 100,000
   * deliveries are about 1,000 rows instead of 100,000. The first check reads the partition once.
   */
  open(ledgerName: string, options: LedgerOpenOptions = {}): DeliveryLedger {
    const partitionKey = toKey(ledgerName);
    const revision = options.revision === undefined ? {} : { revision: options.revision };
    const writer = new GroupWriter((items) => {
      const ids = items.some((item) => item.activityId !== undefined) ? { activityIds: JSON.stringify(items.map((item) => item.activityId ?? null)) } : {};
      const chats = items.some((item) => item.chat !== undefined) ? { chats: JSON.stringify(items.map((item) => chatColumn(item.chat))) } : {};
      const row = { partitionKey, rowKey: groupRowKey('group'), keys: JSON.stringify(items.map((item) => item.key)), ...ids, ...chats, ...revision, deliveredAt: new Date() };
      return this.table.call('record', (client) => client.upsertEntity(row, 'Replace'));
    }, options.groupWindowMs);
    let delivered: Promise<Set<string>> | undefined;
    const readOnce = (): Promise<Set<string>> =>
      (delivered ??= this.table.call('read', () => this.readDelivered(partitionKey)).catch((error: unknown) => {
        delivered = undefined;
        throw error;
      }));
    return {
      wasDelivered: async (key) => (await readOnce()).has(deliveryRowKey(key)),
      recordDelivered: (key, activityId, chat) => writer.record(deliveryRowKey(key), activityId, chat),
    };
  }

  openMarks(ledgerName: string, mark: LedgerMark, options: LedgerOpenOptions = {}): LedgerMarkWriter {
    const partitionKey = toKey(ledgerName);
    const columns = { mark: mark.name, ...(mark.revision === undefined ? {} : { revision: mark.revision }) };
    const writer = new GroupWriter((items) => {
      const ids = items.some((item) => item.activityId !== undefined) ? { activityIds: JSON.stringify(items.map((item) => item.activityId ?? null)) } : {};
      const row = { partitionKey, rowKey: groupRowKey('mark'), keys: JSON.stringify(items.map((item) => item.key)), ...columns, ...ids, markedAt: new Date() };
      return this.table.call('mark', (client) => client.upsertEntity(row, 'Replace'));
    }, options.groupWindowMs);
    return { record: (key, activityId) => writer.record(deliveryRowKey(key), activityId, undefined) };
  }

  entries(ledgerName: string): Promise<ReadonlyMap<string, LedgerEntry>> {
    return this.table.call('read', async () => {
      const fold = new LedgerEntryFold();
      for await (const row of this.rowsOf(toKey(ledgerName))) {
        if (typeof row.keys === 'string') {
          const keys = JSON.parse(row.keys) as string[];
          const ids = typeof row.activityIds === 'string' ? (JSON.parse(row.activityIds) as Array<string | null>) : [];
          if (typeof row.mark === 'string') {
            const mark: LedgerMark = { name: row.mark, ...(typeof row.revision === 'number' ? { revision: row.revision } : {}) };
            keys.forEach((key, index) => fold.mark(key, mark, ids[index] ?? undefined));
            continue;
          }
          const chats = typeof row.chats === 'string' ? (JSON.parse(row.chats) as unknown[]) : [];
          keys.forEach((key, index) => fold.delivery(key, ids[index] ?? undefined, row.revision ?? firstRevision, chatOf(chats[index])));
        } else if (typeof row.rowKey === 'string' && row.rowKey !== leaseRowKey) {
          const chat = typeof row.chatConversationId === 'string' && typeof row.chatServiceUrl === 'string' ? { conversationId: row.chatConversationId, serviceUrl: row.chatServiceUrl } : undefined;
          fold.delivery(row.rowKey, row.activityId, firstRevision, chat);
        }
      }
      return fold.entries();
    });
  }

  deliveredKeys(ledgerName: string): Promise<ReadonlySet<string>> {
    return this.table.call('read', () => this.readDelivered(toKey(ledgerName)));
  }

  async removeLedgers(prefix: string, names: readonly string[], budget: number): Promise<number> {
    let deleted = await deleteMatchingRows(this.table, 'remove', partitionsStartingWith(escapeKey(prefix)), budget);
    for (const name of names) {
      const partitionKey = toKey(name);
      if (isHashedKey(partitionKey)) deleted += await deleteMatchingRows(this.table, 'remove', odata`PartitionKey eq ${partitionKey}`, budget - deleted);
    }
    return deleted;
  }

  private async record(partitionKey: string, key: ConversationKey, activityId: string | undefined, chat: DeliveredChat | undefined): Promise<void> {
    const entity: DeliveryEntity = {
      partitionKey,
      rowKey: deliveryRowKey(key),
      channelId: key.channelId,
      conversationId: key.conversationId,
      deliveredAt: new Date(),
      ...(activityId === undefined ? {} : { activityId }),
      ...(chat === undefined ? {} : { chatConversationId: chat.conversationId, chatServiceUrl: chat.serviceUrl }),
    };
    await this.table.call('record', (client) => client.upsertEntity(entity, 'Replace'));
  }

  /**
   * Inserts the lease row, or replaces one that has lapsed and holds the same
   * fingerprint; the etag makes sure only one of two racing runs wins.
   */
  private async takeLease(lease: LeaseEntity): Promise<LeaseTaken> {
    const inserted = await this.insertLease(lease);
    if (inserted !== undefined) return inserted;
    let current: TableEntityResult<Partial<LeaseEntity>>;
    try {
      current = await this.table.client.getEntity<Partial<LeaseEntity>>(lease.partitionKey, leaseRowKey);
    } catch (error) {
      // Deleted between our insert and our read (a cleanup): whoever inserts next wins, try once more.
      if (hasStatus(error, 404)) return (await this.insertLease(lease)) ?? { ok: false, reason: 'running' };
      throw error;
    }
    // A row without a fingerprint predates them: nothing to compare, the id is taken as the same request.
    if (typeof current.fingerprint === 'string' && current.fingerprint !== lease.fingerprint) return { ok: false, reason: 'reused' };
    if (current.expiresAt instanceof Date && current.expiresAt.getTime() > Date.now()) return { ok: false, reason: 'running' };
    try {
      return { ok: true, etag: (await this.table.client.updateEntity(lease, 'Replace', { etag: current.etag })).etag ?? '*' };
    } catch (error) {
      if (hasStatus(error, 412) || hasStatus(error, 404)) return { ok: false, reason: 'running' };
      throw error;
    }
  }

  /** The taken lease, or undefined when the row exists already. */
  private async insertLease(lease: LeaseEntity): Promise<LeaseTaken | undefined> {
    try {
      return { ok: true, etag: (await this.table.client.createEntity(lease)).etag ?? '*' };
    } catch (error) {
      if (hasStatus(error, 409)) return undefined;
      throw error;
    }
  }

  /** Lapses our lease (not one a later run took over); a failure only delays the next claim until the lease lapses. */
  private async releaseLease(partitionKey: string, etag: string): Promise<void> {
    try {
      await this.table.client.updateEntity({ partitionKey, rowKey: leaseRowKey, expiresAt: new Date(0) }, 'Merge', { etag });
    } catch {
      // Gone, taken over, or storage down: the lease lapses by itself.
    }
  }

  private async readDelivered(partitionKey: string): Promise<Set<string>> {
    const rowKeys = new Set<string>();
    for await (const row of this.rowsOf(partitionKey)) {
      if (typeof row.mark === 'string') continue;
      if (typeof row.keys === 'string') for (const key of JSON.parse(row.keys) as string[]) rowKeys.add(key);
      else if (typeof row.rowKey === 'string' && row.rowKey !== leaseRowKey) rowKeys.add(row.rowKey);
    }
    return rowKeys;
  }

  private rowsOf(partitionKey: string): AsyncIterable<LedgerRow> {
    return this.table.client.listEntities<LedgerRow>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` } });
  }
}

/**
 * Row key of a group of deliveries. `~` is always escaped in delivery keys, so it never collides with
 * one (a row per delivery, as `claim` writes them) or with the lease row.
 */
function groupRowKey(kind: 'group' | 'mark'): string {
  return `~${kind}~${Date.now().toString(36)}~${randomUUID()}`;
}

/** Keys per group row: a string property holds at most 64 KiB of UTF-16 (32,768 characters). */
const maxGroupKeys = 100;
const maxGroupChars = 28_000;

interface GroupItem {
  readonly key: string;
  readonly activityId: string | undefined;
  readonly chat: DeliveredChat | undefined;
}

function chatColumn(chat: DeliveredChat | undefined): [string, string] | null {
  return chat === undefined ? null : [chat.conversationId, chat.serviceUrl];
}

/** A `chats` entry as read back; anything but a pair of strings is no chat. */
function chatOf(value: unknown): DeliveredChat | undefined {
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return undefined;
  return { conversationId: value[0], serviceUrl: value[1] };
}

/** Collects delivery keys for a short while (or until a row is full) and writes them as one row; each caller learns when its key is stored. */
class GroupWriter {
  private pending: Array<GroupItem & { readonly done: (error?: unknown) => void }> = [];
  private pendingChars = 0;
  /** The `chats` column is a property of its own, with its own 32K characters. */
  private pendingChatChars = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly write: (items: GroupItem[]) => Promise<unknown>,
    private readonly maxWaitMs = defaultGroupWindowMs,
  ) {}

  record(key: string, activityId: string | undefined, chat: DeliveredChat | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, activityId, chat, done: (error) => (error === undefined ? resolve() : reject(error)) });
      // Both columns hold at most 32K characters: the key and its id (quoted, with a comma) count against the row's room.
      this.pendingChars += key.length + 3 + (activityId === undefined ? 0 : activityId.length + 3);
      // A chat: two quoted strings in brackets (or null), with a comma.
      this.pendingChatChars += chat === undefined ? 5 : chat.conversationId.length + chat.serviceUrl.length + 8;
      if (this.pending.length >= maxGroupKeys || this.pendingChars >= maxGroupChars || this.pendingChatChars >= maxGroupChars) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    this.pendingChatChars = 0;
    this.write(group).then(
      () => group.forEach((item) => item.done()),
      (error: unknown) => group.forEach((item) => item.done(error ?? new Error('the ledger write failed'))),
    );
  }
}
