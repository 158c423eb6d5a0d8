import { RestError, TableClient, odata } from '@azure/data-tables';
import type { DeliveryLedger } from './broadcastTypes';
import type { ConversationKey } from './conversationStore';
import { toKey } from './conversationKeys';
import type { DeliveryLedgers } from './deliveryLedgers';

/**
 * Which conversations already received a notification, in Azure Table
 * Storage: one partition per notification id, one row per delivered
 * conversation. A retried request reads its partition once, then skips those
 * conversations.
 */

export const defaultDeliveriesTable = 'deliveries';

/** The ledger's table could not be reached or refused us: an outage or a misconfiguration. */
export class LedgerUnavailableError extends Error {
  constructor(operation: string, override readonly cause: unknown) {
    super(`Delivery ledger table unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LedgerUnavailableError';
  }
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

  async open(notificationId: string): Promise<DeliveryLedger> {
    const partitionKey = toKey(notificationId);
    const delivered = await this.call('open', async () => {
      const rowKeys = new Set<string>();
      const rows = this.client.listEntities<Partial<DeliveryEntity>>({
        queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` },
      });
      for await (const row of rows) if (typeof row.rowKey === 'string') rowKeys.add(row.rowKey);
      return rowKeys;
    });
    return {
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
        await this.call('record', async () => this.client.upsertEntity(entity, 'Replace'));
        delivered.add(rowKey);
      },
    };
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

/** No answer at all (network), a server fault, or refused credentials. */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof RestError)) return false;
  const status = error.statusCode;
  return status === undefined || status >= 500 || status === 401 || status === 403;
}
