import { RestError, TableClient } from '@azure/data-tables';

/** A table could not be reached or refused us: an outage or a misconfiguration, not bad input. */
export abstract class TableUnavailableError extends Error {
  constructor(table: string, operation: string, override readonly cause: unknown) {
    super(`${table} unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface TableOptions {
  /** Retries of the SDK's own pipeline per request (default 3, with backoff). */
  readonly maxRetries?: number;
}

/**
 * One table: created on first use, and every call's outage reported as the
 * caller's named error (network failures, 5xx, 401 and 403).
 */
export class Table {
  readonly client: TableClient;
  private tableReady: Promise<void> | undefined;

  constructor(
    connectionString: string,
    tableName: string,
    private readonly unavailable: (operation: string, cause: unknown) => TableUnavailableError,
    options: TableOptions = {},
  ) {
    // Azurite speaks http; the SDK refuses http unless told (it does so itself for UseDevelopmentStorage=true).
    const insecure = /(^|;)\s*(DefaultEndpointsProtocol=http\s*(;|$)|TableEndpoint=http:)/i.test(connectionString);
    this.client = TableClient.fromConnectionString(connectionString, tableName, {
      allowInsecureConnection: insecure,
      ...(options.maxRetries === undefined ? {} : { retryOptions: { maxRetries: options.maxRetries } }),
    });
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

export function hasStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/** No answer at all (network), a server fault, or refused credentials. */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof RestError)) return false;
  const status = error.statusCode;
  return status === undefined || status >= 500 || status === 401 || status === 403;
}
