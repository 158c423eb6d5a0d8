import { SettingsError } from './settingsError';

/**
 * How the app reaches a storage account, read from one connection name the
 * way Azure Functions reads it: the setting itself holds a connection string,
 * or `<name>__*` settings describe an identity-based connection.
 */
export type StorageConnection =
  | { readonly kind: 'connectionString'; readonly setting: string; readonly connectionString: string }
  | {
      readonly kind: 'identity';
      readonly setting: string;
      /** https, no trailing slash, no query. */
      readonly tableServiceUri: string;
      /** Undefined when the connection is only used for tables and no queue endpoint was given. */
      readonly queueServiceUri: string | undefined;
      readonly identity: StorageIdentity;
    };

/** Which credential an identity-based connection signs in with. */
export type StorageIdentity =
  /** No `__credential`: DefaultAzureCredential (your own sign-in locally, such as `az login`; the managed identity in Azure). */
  | { readonly kind: 'default' }
  /** `__credential=managedidentity`: the system-assigned identity, or the user-assigned one named by client id or resource id. */
  | { readonly kind: 'managedIdentity'; readonly clientId?: string; readonly resourceId?: string }
  /** `__tenantId`, `__clientId` and `__clientSecret` without `__credential`: a service principal (Azure Functions allows it for local development only). */
  | { readonly kind: 'servicePrincipal'; readonly tenantId: string; readonly clientId: string; readonly clientSecret: string };

type Env = Readonly<Record<string, string | undefined>>;

export interface StorageNeeds {
  /** Whether the connection must name a queue endpoint too (AzureWebJobsStorage: the host and the queue triggers use it). */
  readonly queues: boolean;
}

/** The `<name>__<property>` settings we read, matched without regard to case as Azure does (docs/settings.md lists them). */
export const connectionProperties = ['accountName', 'tableServiceUri', 'queueServiceUri', 'credential', 'clientId', 'managedIdentityResourceId', 'tenantId', 'clientSecret'] as const;
type Property = (typeof connectionProperties)[number];

/** Storage account names: 3-24 lower-case letters and digits. */
const accountNamePattern = /^[a-z0-9]{3,24}$/;

/**
 * The connection named `name`, or undefined when neither the setting nor any
 * identity-based property of it is set. A connection string wins over
 * identity-based properties, as in Azure Functions; an explicit service URI
 * wins over the URI inferred from `__accountName`. Error messages name
 * settings and never repeat their values.
 */
export function readStorageConnection(env: Env, name: string, needs: StorageNeeds): StorageConnection | undefined {
  const connectionString = env[name]?.trim() ?? '';
  if (connectionString !== '') return Object.freeze({ kind: 'connectionString', setting: name, connectionString });

  const values = identityProperties(env, name);
  if (values.size === 0) return undefined;
  const setting = (property: Property): string => `${name}__${property}`;
  const value = (property: Property): string | undefined => values.get(property.toLowerCase());

  const identity = Object.freeze(readIdentity(value, setting));

  const accountName = value('accountName');
  if (accountName !== undefined && !accountNamePattern.test(accountName)) {
    throw new SettingsError(setting('accountName'), 'must be a storage account name: 3-24 lower-case letters and digits');
  }
  const serviceUri = (service: 'table' | 'queue'): string | undefined => {
    const property = service === 'table' ? 'tableServiceUri' : 'queueServiceUri';
    const explicit = value(property);
    if (explicit !== undefined) return httpsServiceUri(explicit, setting(property), service);
    return accountName === undefined ? undefined : `https://${accountName}.${service}.core.windows.net`;
  };

  const tableServiceUri = serviceUri('table');
  if (tableServiceUri === undefined) {
    throw new SettingsError(
      setting('tableServiceUri'),
      `is missing: an identity-based connection ${name} needs ${setting('tableServiceUri')} or ${setting('accountName')}`,
    );
  }
  const queueServiceUri = serviceUri('queue');
  if (needs.queues && queueServiceUri === undefined) {
    throw new SettingsError(
      setting('queueServiceUri'),
      `is missing: an identity-based connection ${name} needs ${setting('queueServiceUri')} or ${setting('accountName')}`,
    );
  }
  return Object.freeze({ kind: 'identity', setting: name, tableServiceUri, queueServiceUri, identity });
}

function identityProperties(env: Env, name: string): Map<string, string> {
  const prefix = `${name.toLowerCase()}__`;
  const wanted = new Set(connectionProperties.map((property) => property.toLowerCase()));
  const values = new Map<string, string>();
  for (const [key, raw] of Object.entries(env)) {
    const lower = key.toLowerCase();
    if (!lower.startsWith(prefix)) continue;
    const property = lower.slice(prefix.length);
    const value = raw?.trim() ?? '';
    // Other properties (such as __blobServiceUri, which only the Functions host reads) are not ours to judge.
    if (wanted.has(property) && value !== '') values.set(property, value);
  }
  return values;
}

function readIdentity(value: (property: Property) => string | undefined, setting: (property: Property) => string): StorageIdentity {
  const credential = value('credential');
  const clientId = value('clientId');
  const resourceId = value('managedIdentityResourceId');
  if (credential !== undefined) {
    if (credential.toLowerCase() !== 'managedidentity') {
      throw new SettingsError(
        setting('credential'),
        'must be "managedidentity" or unset (unset signs in with DefaultAzureCredential: your own sign-in locally, the managed identity in Azure)',
      );
    }
    if (clientId !== undefined && resourceId !== undefined) {
      throw new SettingsError(setting('managedIdentityResourceId'), `cannot be combined with ${setting('clientId')}: name the user-assigned identity once`);
    }
    if (resourceId !== undefined) return { kind: 'managedIdentity', resourceId };
    return clientId === undefined ? { kind: 'managedIdentity' } : { kind: 'managedIdentity', clientId };
  }
  if (resourceId !== undefined) {
    throw new SettingsError(setting('managedIdentityResourceId'), `needs ${setting('credential')} set to "managedidentity"`);
  }
  const tenantId = value('tenantId');
  const clientSecret = value('clientSecret');
  if (clientId === undefined && tenantId === undefined && clientSecret === undefined) return { kind: 'default' };
  if (clientId !== undefined && tenantId !== undefined && clientSecret !== undefined) {
    return { kind: 'servicePrincipal', tenantId, clientId, clientSecret };
  }
  if (clientId !== undefined) {
    throw new SettingsError(
      setting('clientId'),
      `needs ${setting('credential')} set to "managedidentity" (a user-assigned managed identity), ` +
        `or ${setting('tenantId')} and ${setting('clientSecret')} (a service principal, for local development)`,
    );
  }
  const given = tenantId !== undefined ? 'tenantId' : 'clientSecret';
  throw new SettingsError(setting(given), `needs ${setting('clientId')} and ${setting(given === 'tenantId' ? 'clientSecret' : 'tenantId')} (a service principal, for local development)`);
}

/** The service's https endpoint without a trailing slash; a query (a SAS token) or user info is refused and never echoed. */
function httpsServiceUri(raw: string, setting: string, service: 'table' | 'queue'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new SettingsError(setting, `must be the https endpoint of the ${service} service without a query, such as https://<account>.${service}.core.windows.net`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
