import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientSecretCredential, ManagedIdentityCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { loadSettings } from '../../shared/settings';
import { GraphAuthenticationError } from '../../shared/graph/graphErrors';
import { graphCredentialChoice, identityCredential, IdentityGraphTokens, type CredentialFactory, type GraphCredentialChoice } from '../../shared/graph/graphTokens';

const storage = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
const appId = '11111111-2222-4333-8444-555555555555';
const homeTenant = 'aaaaaaaa-0000-4000-8000-000000000001';
const customerTenant = 'bbbbbbbb-0000-4000-8000-000000000002';

/** A credential factory that records what it was asked to build, and hands out a token naming the sign-in. */
function recordingFactory(): { factory: CredentialFactory; built: GraphCredentialChoice[]; scopes: string[] } {
  const built: GraphCredentialChoice[] = [];
  const scopes: string[] = [];
  const factory: CredentialFactory = (choice) => {
    built.push(choice);
    const credential: TokenCredential = {
      getToken: async (scope): Promise<AccessToken> => {
        scopes.push(String(scope));
        return { token: `token-for-${choice.kind === 'clientSecret' ? choice.tenantId : choice.clientId}`, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    return credential;
  };
  return { factory, built, scopes };
}

describe('Graph credentials, from the bot\'s identity settings', () => {
  it('sends Graph requests without a token when MicrosoftAppId is empty, and builds no credential', async () => {
    const { factory, built } = recordingFactory();
    const tokens = new IdentityGraphTokens(loadSettings({ ...storage, MicrosoftAppPassword: 'ignored' }), factory);

    assert.equal(await tokens.token(customerTenant), undefined);
    assert.deepEqual(built, []);
  });

  it('signs a multi-tenant bot in to each tenant it addresses with its client secret, once per tenant', async () => {
    const { factory, built, scopes } = recordingFactory();
    const settings = loadSettings({ ...storage, MicrosoftAppId: appId, MicrosoftAppPassword: 'secret', MicrosoftAppType: 'MultiTenant' });
    const tokens = new IdentityGraphTokens(settings, factory);

    assert.equal(await tokens.token(customerTenant), `token-for-${customerTenant}`);
    assert.equal(await tokens.token(homeTenant), `token-for-${homeTenant}`);
    assert.equal(await tokens.token(customerTenant), `token-for-${customerTenant}`);

    assert.deepEqual(built, [
      { kind: 'clientSecret', tenantId: customerTenant, clientId: appId, authorityHost: 'https://login.microsoftonline.com' },
      { kind: 'clientSecret', tenantId: homeTenant, clientId: appId, authorityHost: 'https://login.microsoftonline.com' },
    ]);
    assert.deepEqual(new Set(scopes), new Set(['https://graph.microsoft.com/.default']));
  });

  it('signs a single-tenant bot in to its own tenant, whichever tenant is addressed', () => {
    const settings = loadSettings({ ...storage, MicrosoftAppId: appId, MicrosoftAppPassword: 'secret', MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: homeTenant });
    assert.deepEqual(graphCredentialChoice(settings, customerTenant), { kind: 'clientSecret', tenantId: homeTenant, clientId: appId, authorityHost: 'https://login.microsoftonline.com' });
  });

  it('uses the managed identity MicrosoftAppId names for a UserAssignedMSI bot, and nothing else', () => {
    const settings = loadSettings({ ...storage, MicrosoftAppId: appId, MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: homeTenant });
    const choice = graphCredentialChoice(settings, customerTenant);
    assert.deepEqual(choice, { kind: 'managedIdentity', clientId: appId });
    assert.ok(identityCredential(choice as Exclude<GraphCredentialChoice, { kind: 'none' }>, '') instanceof ManagedIdentityCredential);
  });

  it('builds a client-secret credential for a secret, signing in where botbuilder does: the US Government cloud for its ChannelService', () => {
    const settings = loadSettings({
      ...storage,
      MicrosoftAppId: appId,
      MicrosoftAppPassword: 'secret',
      ChannelService: 'https://botframework.azure.us',
      MICROSOFT_GRAPH_URL: 'https://graph.microsoft.us',
    });
    const choice = graphCredentialChoice(settings, customerTenant);
    assert.deepEqual(choice, { kind: 'clientSecret', tenantId: customerTenant, clientId: appId, authorityHost: 'https://login.microsoftonline.us' });
    assert.ok(identityCredential(choice as Exclude<GraphCredentialChoice, { kind: 'none' }>, 'secret') instanceof ClientSecretCredential);
  });

  it('asks for the token of the Graph that MICROSOFT_GRAPH_URL names (its origin\'s .default)', async () => {
    const { factory, scopes } = recordingFactory();
    const settings = loadSettings({ ...storage, MicrosoftAppId: appId, MicrosoftAppPassword: 'secret', MICROSOFT_GRAPH_URL: 'https://graph.microsoft.us/' });
    await new IdentityGraphTokens(settings, factory).token(customerTenant);
    assert.deepEqual(scopes, ['https://graph.microsoft.us/.default']);
  });

  it('turns a failed sign-in into GraphAuthenticationError naming the app and tenant, and refuses a tenant id that is not one', async () => {
    const failing: CredentialFactory = () => ({ getToken: async () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided.')) });
    const tokens = new IdentityGraphTokens(loadSettings({ ...storage, MicrosoftAppId: appId, MicrosoftAppPassword: 'wrong' }), failing);

    await assert.rejects(tokens.token(customerTenant), (error: unknown) => {
      assert.ok(error instanceof GraphAuthenticationError);
      assert.match(error.message, new RegExp(`app ${appId} in tenant ${customerTenant}.*Invalid client secret`));
      assert.doesNotMatch(error.message, /wrong/);
      return true;
    });
    await assert.rejects(tokens.token('../other'), GraphAuthenticationError);
  });
});
