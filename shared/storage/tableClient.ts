import { RestError, type TableClient } from '@azure/data-tables';
import type { StorageConnection } from '../settings';
import { tableClientFor, type StorageClientOptions } from './storageClients';

/** A table could not be reached or refused us: an outage or a misconfiguration, not bad input. */
export abstract class TableUnavailableError extends Error {
  constructor(table: string, operation: string, override readonly cause: unknown) {
    super(`${table} unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export type TableOptions = StorageClientOptions;

/**
 * One table: created on first use, and every call's outage reported as the
 * caller's named error (network failures, 5xx, 401 and 403).
 */
export class Table {
  readonly client: TableClient;
  private tableReady: Promise<void> | undefined;

  constructor(
    connection: StorageConnection,
    tableName: string,
    private readonly unavailable: (operation: string, cause: unknown) => TableUnavailableError,
    options: TableOptions = {},
  ) {
    this.client = tableClientFor(connection, tableName, options);
  }

  async call<T>(operation: string, action: (client: TableClient) => Promise<T>): Promise<T> {
    try {
      await this.ensureTable();
      return await action(this.client);
    } catch (error) {
      throw isUnavailable(error) ? this.unavailable(operation, error) : error;
    }
  }

  /** Creates the table once per instance; a failed attempt is forgotten so the next call tries again. */
  private ensureTable(): Promise<void> {
    this.tableReady ??= this.client.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}

/** Azure's limit of actions in one transaction, all of one partition. */
export const maxTransactionRows = 100;

/** The rows grouped by partition, in chunks that each fit one transaction. */
export function transactionChunks<T extends { readonly partitionKey: string }>(rows: readonly T[]): T[][] {
  const byPartition = new Map<string, T[]>();
  for (const row of rows) {
    const partition = byPartition.get(row.partitionKey) ?? [];
    partition.push(row);
    byPartition.set(row.partitionKey, partition);
  }
  const chunks: T[][] = [];
  for (const partition of byPartition.values()) {
    for (let i = 0; i < partition.length; i += maxTransactionRows) chunks.push(partition.slice(i, i + maxTransactionRows));
  }
  return chunks;
}

export function hasStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/** No answer at all (network), a server fault, or refused credentials. */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof RestError)) return false;
  const status = error.statusCode;
  return status === undefined || status >= 500 || status === 401 || status === 403;
}
