import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { SettingsError, type StorageConnection, type StorageIdentity } from '../settings';

/**
 * The one place that turns a storage connection from the settings into Azure
 * SDK clients: connection strings (Azurite, account keys, SAS) or an identity
 * (DefaultAzureCredential, a managed identity, a service principal).
 */

export interface StorageClientOptions {
  /** Retries of the SDK's own pipeline per request (its default when unset). */
  readonly maxRetries?: number;
}

const credentials = new WeakMap<StorageIdentity, TokenCredential>();

/** The credential of an identity, built once per identity so its token cache is shared by every client. */
export function credentialFor(identity: StorageIdentity): TokenCredential {
  let credential = credentials.get(identity);
  if (credential === undefined) {
    credential = newCredential(identity);
    credentials.set(identity, credential);
  }
  return credential;
}

function newCredential(identity: StorageIdentity): TokenCredential {
  switch (identity.kind) {
    case 'default':
      return new DefaultAzureCredential();
    case 'managedIdentity':
      if (identity.resourceId !== undefined) return new ManagedIdentityCredential({ resourceId: identity.resourceId });
      if (identity.clientId !== undefined) return new ManagedIdentityCredential({ clientId: identity.clientId });
      return new ManagedIdentityCredential();
    case 'servicePrincipal':
      return new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret);
  }
}

export function tableClientFor(connection: StorageConnection, table: string, options: StorageClientOptions = {}): TableClient {
  const retryOptions = options.maxRetries === undefined ? {} : { retryOptions: { maxRetries: options.maxRetries } };
  if (connection.kind === 'identity') {
    return new TableClient(connection.tableServiceUri, table, credentialFor(connection.identity), retryOptions);
  }
  // Azurite speaks http; the SDK refuses http unless told (it does so itself for UseDevelopmentStorage=true).
  const insecure = /(^|;)\s*(DefaultEndpointsProtocol=http\s*(;|$)|TableEndpoint=http:)/i.test(connection.connectionString);
  return TableClient.fromConnectionString(connection.connectionString, table, { allowInsecureConnection: insecure, ...retryOptions });
}

export function queueClientFor(connection: StorageConnection, queue: string, options: StorageClientOptions = {}): QueueClient {
  // The storage SDK counts tries, the first one included.
  const retryOptions = options.maxRetries === undefined ? {} : { retryOptions: { maxTries: options.maxRetries + 1 } };
  if (connection.kind === 'connectionString') return new QueueClient(connection.connectionString, queue, retryOptions);
  if (connection.queueServiceUri === undefined) {
    throw new SettingsError(`${connection.setting}__queueServiceUri`, `is missing: queues on ${connection.setting} need a queue endpoint`);
  }
  return new QueueClient(`${connection.queueServiceUri}/${encodeURIComponent(queue)}`, credentialFor(connection.identity), retryOptions);
}
