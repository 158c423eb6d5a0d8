import { RestError, TableClient, odata, type TableEntityResult } from '@azure/data-tables';
import type { ConversationKey } from './conversationStore';
import { toKey } from './conversationKeys';
import type { DeliveryLedgers, LedgerClaim } from './deliveryLedgers';

/**
 * Which conversations already received a notification, in Azure Table
 * Storage: one partition per notification id, one row per delivered
 * conversation, plus a lease row while a run holds the id. A retried request
 * reads its partition once, then skips those conversations.
 */

export const defaultDeliveriesTable = 'deliveries';

/** The ledger's table could not be reached or refused us: an outage or a misconfiguration. */
export class LedgerUnavailableError extends Error {
  constructor(operation: string, override readonly cause: unknown) {
    super(`Delivery ledger table unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LedgerUnavailableError';
  }
}

/** The row that says a run holds the id. `~` is always escaped in delivery keys, so no delivery row has this key. */
const leaseRowKey = '~lease';

interface LeaseEntity {
  partitionKey: string;
  rowKey: string;
  expiresAt: Date;
}

interface DeliveryEntity {
  partitionKey: string;
  rowKey: string;
  channelId: string;
  /** The full id: a long one is hashed in the RowKey. */
  conversationId: string;
  deliveredAt: Date;
}

/**
 * RowKey of a conversation in a notification's partition: channel and
 * conversation id escaped together (the newline between them is escaped
 * too, so no two keys collide), hashed when too long, like the store's keys.
 */
export function deliveryRowKey({ channelId, conversationId }: ConversationKey): string {
  return toKey(`${channelId}\n${conversationId}`);
}

export interface TableDeliveryLedgersOptions {
  readonly tableName?: string;
  /** Retries of the SDK's own pipeline per request (default 3, with backoff). */
  readonly maxRetries?: number;
}

export class TableDeliveryLedgers implements DeliveryLedgers {
  private readonly client: TableClient;
  private tableReady: Promise<void> | undefined;

  constructor(connectionString: string, options: TableDeliveryLedgersOptions = {}) {
    // Azurite speaks http; the SDK refuses http unless told (it does so itself for UseDevelopmentStorage=true).
    const insecure = /(^|;)\s*(DefaultEndpointsProtocol=http\s*(;|$)|TableEndpoint=http:)/i.test(connectionString);
    this.client = TableClient.fromConnectionString(connectionString, options.tableName ?? defaultDeliveriesTable, {
      allowInsecureConnection: insecure,
      ...(options.maxRetries === undefined ? {} : { retryOptions: { maxRetries: options.maxRetries } }),
    });
  }

  async claim(notificationId: string, leaseMs: number): Promise<LedgerClaim> {
    const partitionKey = toKey(notificationId);
    const etag = await this.call('claim', () => this.takeLease(partitionKey, leaseMs));
    if (etag === undefined) return { claimed: false };
    let delivered: Set<string>;
    try {
      delivered = await this.call('read', () => this.readDelivered(partitionKey));
    } catch (error) {
      await this.releaseLease(partitionKey, etag);
      throw error;
    }
    return {
      claimed: true,
      ledger: {
        wasDelivered: async (key) => delivered.has(deliveryRowKey(key)),
        recordDelivered: async (key) => {
          const rowKey = deliveryRowKey(key);
          const entity: DeliveryEntity = {
            partitionKey,
            rowKey,
            channelId: key.channelId,
            conversationId: key.conversationId,
            deliveredAt: new Date(),
          };
          await this.call('record', () => this.client.upsertEntity(entity, 'Replace'));
          delivered.add(rowKey);
        },
      },
      release: () => this.releaseLease(partitionKey, etag),
    };
  }

  /**
   * Inserts the lease row, or replaces one that has lapsed; the etag makes
   * sure only one of two racing runs wins. Returns the lease's etag, or
   * undefined when another run holds it.
   */
  private async takeLease(partitionKey: string, leaseMs: number): Promise<string | undefined> {
    const lease: LeaseEntity = { partitionKey, rowKey: leaseRowKey, expiresAt: new Date(Date.now() + leaseMs) };
    try {
      return (await this.client.createEntity(lease)).etag ?? '*';
    } catch (error) {
      if (!hasStatus(error, 409)) throw error;
    }
    let current: TableEntityResult<Partial<LeaseEntity>>;
    try {
      current = await this.client.getEntity<Partial<LeaseEntity>>(partitionKey, leaseRowKey);
    } catch (error) {
      // Released between our insert and our read: whoever inserts next wins, try once more.
      if (hasStatus(error, 404)) return this.insertOnce(lease);
      throw error;
    }
    if (current.expiresAt instanceof Date && current.expiresAt.getTime() > Date.now()) return undefined;
    try {
      return (await this.client.updateEntity(lease, 'Replace', { etag: current.etag })).etag ?? '*';
    } catch (error) {
      if (hasStatus(error, 412) || hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private async insertOnce(lease: LeaseEntity): Promise<string | undefined> {
    try {
      return (await this.client.createEntity(lease)).etag ?? '*';
    } catch (error) {
      if (hasStatus(error, 409)) return undefined;
      throw error;
    }
  }

  /** Deletes our lease (not one a later run took over); a failure only delays the next claim until the lease lapses. */
  private async releaseLease(partitionKey: string, etag: string): Promise<void> {
    try {
      await this.client.deleteEntity(partitionKey, leaseRowKey, { etag });
    } catch {
      // Gone already, taken over, or storage down: the lease lapses by itself.
    }
  }

  private async readDelivered(partitionKey: string): Promise<Set<string>> {
    const rowKeys = new Set<string>();
    const rows = this.client.listEntities<Partial<DeliveryEntity>>({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` },
    });
    for await (const row of rows) if (typeof row.rowKey === 'string' && row.rowKey !== leaseRowKey) rowKeys.add(row.rowKey);
    return rowKeys;
  }

  /** Creates the table once per instance; a failed attempt is forgotten so the next call tries again. */
  private ensureTable(): Promise<void> {
    this.tableReady ??= this.client.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }

  private async call<T>(operation: string, action: () => Promise<T>): Promise<T> {
    try {
      await this.ensureTable();
      return await action();
    } catch (error) {
      throw isUnavailable(error) ? new LedgerUnavailableError(operation, error) : error;
    }
  }
}

function hasStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/** No answer at all (network), a server fault, or refused credentials. */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof RestError)) return false;
  const status = error.statusCode;
  return status === undefined || status >= 500 || status === 401 || status === 403;
}
