import { DefaultAzureCredential } from '@azure/identity';
import { QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where a queue trigger's `connection` points, resolved as the Functions host
 * resolves storage connections: the setting named by `connection` (default
 * `AzureWebJobsStorage`), else `AzureWebJobs<connection>`; a connection string
 * (`UseDevelopmentStorage=true` means Azurite on 127.0.0.1:10001), or an
 * identity-based connection (`<connection>__queueServiceUri`,
 * `<connection>__serviceUri` or `<connection>__accountName`).
 */
export type QueueConnection =
  | { readonly kind: 'connectionString'; readonly setting: string; readonly connectionString: string }
  | { readonly kind: 'identity'; readonly setting: string; readonly queueServiceUri: string; readonly clientId: string | undefined };

export class QueueConnectionError extends Error {
  constructor(readonly setting: string) {
    super(
      `Storage account connection string '${setting}' does not exist. Make sure that it is a defined app setting ` +
        `(a connection string, or ${setting}__queueServiceUri for an identity-based connection)`,
    );
    this.name = 'QueueConnectionError';
  }
}

export function resolveQueueConnection(connection: string | null | undefined, env: Env): QueueConnection {
  const name = connection?.trim() || 'AzureWebJobsStorage';
  const candidates = name.toLowerCase().startsWith('azurewebjobs') ? [name] : [name, `AzureWebJobs${name}`];
  for (const setting of candidates) {
    const value = env[setting]?.trim();
    if (value) return { kind: 'connectionString', setting, connectionString: value };
    const queueServiceUri =
      env[`${setting}__queueServiceUri`]?.trim() ||
      env[`${setting}__serviceUri`]?.trim() ||
      (env[`${setting}__accountName`]?.trim() ? `https://${env[`${setting}__accountName`]?.trim()}.queue.core.windows.net` : '');
    if (queueServiceUri) {
      return { kind: 'identity', setting, queueServiceUri, clientId: env[`${setting}__clientId`]?.trim() || undefined };
    }
  }
  throw new QueueConnectionError(name);
}

/** Retries a little (renewals and deletes matter), but never long: the listener has its own backoff. */
const pipelineOptions: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, tryTimeoutInMs: 30_000 },
};

export function queueServiceClient(connection: QueueConnection): QueueServiceClient {
  if (connection.kind === 'connectionString') return QueueServiceClient.fromConnectionString(connection.connectionString, pipelineOptions);
  const credential = new DefaultAzureCredential(connection.clientId === undefined ? {} : { managedIdentityClientId: connection.clientId });
  return new QueueServiceClient(connection.queueServiceUri, credential, pipelineOptions);
}
