import type { StorageConnection } from '../../shared/settings';

/** A storage connection as loadSettings reads it from `AzureWebJobsStorage=<connectionString>`. */
export function storageAt(connectionString: string): StorageConnection {
  return { kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString };
}
