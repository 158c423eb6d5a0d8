import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where a queue trigger's `connection` points, resolved as the Functions host
 * resolves storage connections: the setting named by `connection` (default
 * `AzureWebJobsStorage`), else `AzureWebJobs<connection>`; a connection string
 * (`UseDevelopmentStorage=true` means Azurite on 127.0.0.1:10001), or an
 * identity-based connection (`<connection>__queueServiceUri`,
 * `<connection>__serviceUri` or `<connection>__accountName`, with
 * `__credential`, `__clientId`, `__managedIdentityResourceId`, `__tenantId`,
 * `__clientSecret` choosing the credential). Setting names are matched
 * without regard to case, as the host reads its configuration.
 */
export type QueueConnection =
  | { readonly kind: 'connectionString'; readonly setting: string; readonly connectionString: string }
  | { readonly kind: 'identity'; readonly setting: string; readonly queueServiceUri: string; readonly credential: QueueCredential };

export type QueueCredential =
  | { readonly kind: 'default' }
  | { readonly kind: 'managedIdentity'; readonly clientId?: string; readonly resourceId?: string }
  | { readonly kind: 'servicePrincipal'; readonly tenantId: string; readonly clientId: string; readonly clientSecret: string };

export class QueueConnectionError extends Error {
  constructor(readonly setting: string, detail?: string) {
    super(
      detail ??
        `Storage account connection string '${setting}' does not exist. Make sure that it is a defined app setting ` +
          `(a connection string, or ${setting}__queueServiceUri for an identity-based connection)`,
    );
    this.name = 'QueueConnectionError';
  }
}

export function resolveQueueConnection(connection: string | null | undefined, env: Env): QueueConnection {
  const name = connection?.trim() || 'AzureWebJobsStorage';
  const candidates = name.toLowerCase().startsWith('azurewebjobs') ? [name] : [name, `AzureWebJobs${name}`];
  const lookup = new Map(Object.entries(env).map(([key, value]) => [key.toLowerCase(), value?.trim() || undefined]));
  for (const setting of candidates) {
    const read = (suffix = ''): string | undefined => lookup.get(`${setting}${suffix}`.toLowerCase());
    const connectionString = read();
    if (connectionString !== undefined) return { kind: 'connectionString', setting, connectionString };
    const accountName = read('__accountName');
    const queueServiceUri = read('__queueServiceUri') ?? read('__serviceUri') ?? (accountName === undefined ? undefined : `https://${accountName}.queue.core.windows.net`);
    if (queueServiceUri !== undefined) return { kind: 'identity', setting, queueServiceUri, credential: readCredential(setting, read) };
  }
  throw new QueueConnectionError(name);
}

function readCredential(setting: string, read: (suffix: string) => string | undefined): QueueCredential {
  const clientId = read('__clientId');
  const resourceId = read('__managedIdentityResourceId');
  const credential = read('__credential');
  if (credential !== undefined) {
    if (credential.toLowerCase() !== 'managedidentity') throw new QueueConnectionError(setting, `${setting}__credential must be "managedidentity" or unset`);
    if (resourceId !== undefined) return { kind: 'managedIdentity', resourceId };
    return clientId === undefined ? { kind: 'managedIdentity' } : { kind: 'managedIdentity', clientId };
  }
  const tenantId = read('__tenantId');
  const clientSecret = read('__clientSecret');
  if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined) return { kind: 'servicePrincipal', tenantId, clientId, clientSecret };
  return { kind: 'default' };
}

/** Retries a little (renewals and deletes matter), but never long: the listener has its own backoff. */
const pipelineOptions: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, tryTimeoutInMs: 30_000 },
};

export function queueServiceClient(connection: QueueConnection): QueueServiceClient {
  if (connection.kind === 'connectionString') {
    try {
      return QueueServiceClient.fromConnectionString(connection.connectionString, pipelineOptions);
    } catch (error) {
      // The SDK's message (say "Invalid EndpointSuffix" for a table-only Azurite string) does not say what to set.
      throw new QueueConnectionError(
        connection.setting,
        `the connection string in ${connection.setting} does not reach a queue service (${error instanceof Error ? error.message : String(error)}): ` +
          'it needs QueueEndpoint=..., AccountName with AccountKey (and EndpointSuffix), or UseDevelopmentStorage=true',
      );
    }
  }
  return new QueueServiceClient(connection.queueServiceUri.replace(/\/+$/, ''), tokenCredential(connection.credential), pipelineOptions);
}

function tokenCredential(credential: QueueCredential): TokenCredential {
  switch (credential.kind) {
    case 'default':
      return new DefaultAzureCredential();
    case 'managedIdentity':
      if (credential.resourceId !== undefined) return new ManagedIdentityCredential({ resourceId: credential.resourceId });
      return credential.clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId: credential.clientId });
    case 'servicePrincipal':
      return new ClientSecretCredential(credential.tenantId, credential.clientId, credential.clientSecret);
  }
}
