import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DefaultAzureCredential, ManagedIdentityCredential, ClientSecretCredential } from '@azure/identity';
import { loadSettings, SettingsError, type StorageConnection } from '../../shared/settings';
import { credentialFor, queueClientFor, tableClientFor } from '../../shared/storage/storageClients';

const azurite = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
const accountKey = 'c2VjcmV0LWFjY291bnQta2V5LWNhbmFyeQ==';

function identityOf(connection: StorageConnection) {
  assert.equal(connection.kind, 'identity');
  return connection.identity;
}

/** The credential an SDK client signs its requests with (a field both SDKs keep). */
function credentialOf(client: object): unknown {
  return (client as { credential?: unknown }).credential;
}

describe('storage connections: which clients each form of the settings builds', () => {
  it('keeps Azurite\'s UseDevelopmentStorage=true on the emulator\'s local endpoints', () => {
    const { conversationsStorage, webJobsStorage } = loadSettings(azurite);
    assert.equal(conversationsStorage.kind, 'connectionString');
    assert.equal(tableClientFor(conversationsStorage, 'conversations').url, 'http://127.0.0.1:10002/devstoreaccount1');
    assert.equal(queueClientFor(webJobsStorage, 'notifications').url, 'http://127.0.0.1:10001/devstoreaccount1/notifications');
  });

  it('reaches an account named by an account-key connection string on its public endpoints', () => {
    const connectionString = `DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=${accountKey};EndpointSuffix=core.windows.net`;
    const { conversationsStorage } = loadSettings({ AzureWebJobsStorage: connectionString });
    assert.equal(tableClientFor(conversationsStorage, 'conversations').url, 'https://contoso.table.core.windows.net');
    assert.equal(queueClientFor(conversationsStorage, 'work').url, 'https://contoso.queue.core.windows.net/work');
  });

  it('infers both endpoints from AzureWebJobsStorage__accountName and signs in with DefaultAzureCredential', () => {
    const { conversationsStorage, webJobsStorage } = loadSettings({ AzureWebJobsStorage__accountName: 'contoso' });
    assert.deepEqual(webJobsStorage, {
      kind: 'identity',
      setting: 'AzureWebJobsStorage',
      tableServiceUri: 'https://contoso.table.core.windows.net',
      queueServiceUri: 'https://contoso.queue.core.windows.net',
      identity: { kind: 'default' },
    });
    assert.equal(conversationsStorage, webJobsStorage);
    const table = tableClientFor(conversationsStorage, 'conversations');
    const queue = queueClientFor(webJobsStorage, 'notifications');
    assert.equal(table.url, 'https://contoso.table.core.windows.net');
    assert.equal(queue.url, 'https://contoso.queue.core.windows.net/notifications');
    assert.ok(credentialFor(identityOf(webJobsStorage)) instanceof DefaultAzureCredential);
    // One credential per connection, so every client shares its token cache.
    assert.equal(credentialOf(table), credentialFor(identityOf(webJobsStorage)));
    assert.equal(credentialOf(queue), credentialFor(identityOf(webJobsStorage)));
  });

  it('uses the service URIs and the user-assigned managed identity named by __credential and __clientId', () => {
    const { webJobsStorage } = loadSettings({
      AzureWebJobsStorage__tableServiceUri: 'https://contoso.table.core.usgovcloudapi.net/',
      AzureWebJobsStorage__queueServiceUri: 'https://contoso.queue.core.usgovcloudapi.net',
      AzureWebJobsStorage__blobServiceUri: 'https://contoso.blob.core.usgovcloudapi.net',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-0000000000c1',
    });
    assert.deepEqual(identityOf(webJobsStorage), { kind: 'managedIdentity', clientId: '00000000-0000-0000-0000-0000000000c1' });
    assert.equal(tableClientFor(webJobsStorage, 'conversations').url, 'https://contoso.table.core.usgovcloudapi.net');
    assert.equal(queueClientFor(webJobsStorage, 'q').url, 'https://contoso.queue.core.usgovcloudapi.net/q');
    assert.ok(credentialFor(identityOf(webJobsStorage)) instanceof ManagedIdentityCredential);
  });

  it('uses the system-assigned identity for __credential=managedidentity without a client id, and a resource id when given one', () => {
    const system = loadSettings({ AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__credential: 'ManagedIdentity' });
    assert.deepEqual(identityOf(system.webJobsStorage), { kind: 'managedIdentity' });
    assert.ok(credentialFor(identityOf(system.webJobsStorage)) instanceof ManagedIdentityCredential);
    const resourceId = '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bot';
    const byResource = loadSettings({
      AzureWebJobsStorage__accountName: 'contoso',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__managedIdentityResourceId: resourceId,
    });
    assert.deepEqual(identityOf(byResource.webJobsStorage), { kind: 'managedIdentity', resourceId });
  });

  it('signs in as a service principal when __tenantId, __clientId and __clientSecret are all set without __credential', () => {
    const { webJobsStorage } = loadSettings({
      AzureWebJobsStorage__accountName: 'contoso',
      AzureWebJobsStorage__tenantId: '00000000-0000-0000-0000-00000000000a',
      AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-00000000000b',
      AzureWebJobsStorage__clientSecret: 'client-secret-canary',
    });
    assert.equal(identityOf(webJobsStorage).kind, 'servicePrincipal');
    assert.ok(credentialFor(identityOf(webJobsStorage)) instanceof ClientSecretCredential);
  });

  it('prefers an explicit service URI over the one inferred from the account name', () => {
    const { webJobsStorage } = loadSettings({
      AzureWebJobsStorage__accountName: 'contoso',
      AzureWebJobsStorage__tableServiceUri: 'https://tables.example.com',
    });
    assert.equal(tableClientFor(webJobsStorage, 't').url, 'https://tables.example.com');
    assert.equal(queueClientFor(webJobsStorage, 'q').url, 'https://contoso.queue.core.windows.net/q');
  });

  it('honours a connection string over identity-based properties of the same name, as Azure Functions does', () => {
    const { webJobsStorage } = loadSettings({ ...azurite, AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__credential: 'bogus' });
    assert.equal(webJobsStorage.kind, 'connectionString');
  });

  it('gives the conversation tables their own identity-based account while the host keeps AzureWebJobsStorage', () => {
    const { conversationsStorage, webJobsStorage } = loadSettings({
      ...azurite,
      CONVERSATIONS_STORAGE_CONNECTION__tableServiceUri: 'https://tables.table.core.windows.net',
      CONVERSATIONS_STORAGE_CONNECTION__credential: 'managedidentity',
    });
    assert.equal(webJobsStorage.kind, 'connectionString');
    assert.equal(conversationsStorage.kind, 'identity');
    assert.equal(tableClientFor(conversationsStorage, 'conversations').url, 'https://tables.table.core.windows.net');
    assert.ok(credentialFor(identityOf(conversationsStorage)) instanceof ManagedIdentityCredential);
    assert.throws(() => queueClientFor(conversationsStorage, 'q'), /CONVERSATIONS_STORAGE_CONNECTION__queueServiceUri is missing/);
  });

  it('accepts CONVERSATIONS_STORAGE_CONNECTION__accountName too', () => {
    const { conversationsStorage } = loadSettings({ ...azurite, CONVERSATIONS_STORAGE_CONNECTION__accountName: 'tables1' });
    assert.equal(tableClientFor(conversationsStorage, 'conversations').url, 'https://tables1.table.core.windows.net');
  });

  const halfConfigured: [string, Record<string, string>, string][] = [
    ['a credential without any endpoint', { AzureWebJobsStorage__credential: 'managedidentity' }, 'AzureWebJobsStorage__tableServiceUri'],
    ['a client id without __credential=managedidentity', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__clientId: 'c1' }, 'AzureWebJobsStorage__clientId'],
    ['a resource id without __credential=managedidentity', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__managedIdentityResourceId: '/x' }, 'AzureWebJobsStorage__managedIdentityResourceId'],
    ['both a client id and a resource id', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__credential: 'managedidentity', AzureWebJobsStorage__clientId: 'c1', AzureWebJobsStorage__managedIdentityResourceId: '/x' }, 'AzureWebJobsStorage__managedIdentityResourceId'],
    ['a credential type this app does not build', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__credential: 'managedidentityasfederatedidentity' }, 'AzureWebJobsStorage__credential'],
    ['a tenant id without the rest of a service principal', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__tenantId: 't' }, 'AzureWebJobsStorage__tenantId'],
    ['a client secret without the rest of a service principal', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__clientSecret: 'client-secret-canary' }, 'AzureWebJobsStorage__clientSecret'],
    ['a service URI over plain http', { AzureWebJobsStorage__tableServiceUri: 'http://contoso.table.core.windows.net', AzureWebJobsStorage__queueServiceUri: 'https://contoso.queue.core.windows.net' }, 'AzureWebJobsStorage__tableServiceUri'],
    ['a service URI that is not a URL', { AzureWebJobsStorage__tableServiceUri: 'contoso', AzureWebJobsStorage__queueServiceUri: 'https://contoso.queue.core.windows.net' }, 'AzureWebJobsStorage__tableServiceUri'],
    ['a service URI carrying a SAS token', { AzureWebJobsStorage__accountName: 'contoso', AzureWebJobsStorage__queueServiceUri: 'https://contoso.queue.core.windows.net/?sv=2024&sig=sas-signature-canary' }, 'AzureWebJobsStorage__queueServiceUri'],
    ['host storage without a queue endpoint', { AzureWebJobsStorage__tableServiceUri: 'https://contoso.table.core.windows.net' }, 'AzureWebJobsStorage__queueServiceUri'],
    ['an account name that is not one', { AzureWebJobsStorage__accountName: 'Contoso_Storage' }, 'AzureWebJobsStorage__accountName'],
    ['a conversations connection with only a credential', { ...azurite, CONVERSATIONS_STORAGE_CONNECTION__credential: 'managedidentity' }, 'CONVERSATIONS_STORAGE_CONNECTION__tableServiceUri'],
    ['only a conversations connection (the host still needs AzureWebJobsStorage)', { CONVERSATIONS_STORAGE_CONNECTION__accountName: 'contoso' }, 'AzureWebJobsStorage'],
  ];
  for (const [description, env, setting] of halfConfigured) {
    it(`refuses ${description} with a SettingsError naming ${setting} and no setting's value`, () => {
      assert.throws(
        () => loadSettings(env),
        (error: unknown) => {
          assert.ok(error instanceof SettingsError);
          assert.equal(error.setting, setting);
          assert.match(error.message, new RegExp(`^App setting ${setting} `));
          for (const value of Object.values(env)) {
            if (value.length > 3 && value !== 'managedidentity') assert.ok(!error.message.includes(value), `"${error.message}" repeats ${value}`);
          }
          return true;
        },
      );
    });
  }
});
