import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { emulatorConversationUpdate, teamsInstallationUpdate, teamsPersonalChat } from '../support/activities';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { epochSeconds, signingKey, signToken, startOpenIdServer, unsignedToken, type OpenIdServer } from '../support/openIdServer';

/**
 * The messaging endpoint's authentication through `npm start`'s host, with
 * MicrosoftAppId set and botbuilder's OpenID metadata settings pointing at a
 * local key server: tokens are signed here, as the Bot Connector service and
 * the Emulator's Azure AD would sign them.
 */
describe('bot authentication on /api/messages, end to end', () => {
  const appId = '7d5c1a4e-0000-4000-8000-00000000b0a7';
  const channelIssuer = 'https://api.botframework.com';
  const emulatorIssuer = 'https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/';

  // Keys like the real key set's: endorsed for the channels they may sign for.
  const channelKey = signingKey('channel-key', ['msteams', 'emulator', 'webchat']);
  const webchatOnlyKey = signingKey('webchat-only-key', ['webchat']);
  const emulatorKey = signingKey('emulator-key');
  const unpublishedKey = signingKey('never-published');

  let storage: TestStorage;
  let connector: FakeConnector;
  let keys: OpenIdServer;
  let app: AppProcess | undefined;

  before(async () => {
    [storage, connector, keys] = await Promise.all([
      startTestStorage(),
      startFakeConnector(),
      startOpenIdServer({ channel: [channelKey, webchatOnlyKey], emulator: [emulatorKey] }),
    ]);
    app = await startApp({
      settings: appSettings(storage.connectionString, {
        MicrosoftAppId: appId,
        MicrosoftAppPassword: 'test-password-not-a-secret',
        // Only these: the other endpoint settings get the public cloud's values.
        ToBotFromChannelOpenIdMetadataUrl: keys.channelMetadataUrl,
        ToBotFromEmulatorOpenIdMetadataUrl: keys.emulatorMetadataUrl,
        // The bot's replies ask this machine for a token (and fail at once) instead of Azure AD over the network.
        ToChannelFromBotLoginUrl: new URL('/botframework.com', keys.channelMetadataUrl).toString(),
      }),
    });
  });

  after(async () => {
    await app?.stop();
    await Promise.all([connector?.stop(), keys?.stop(), storage?.dispose()]);
  });

  async function isStored(conversationId: string): Promise<boolean> {
    const table = TableClient.fromConnectionString(storage.connectionString, 'conversations', { allowInsecureConnection: true });
    try {
      for await (const row of table.listEntities<{ conversationId: string }>()) if (row.conversationId === conversationId) return true;
    } catch (error) {
      if (error instanceof Error && 'statusCode' in error && error.statusCode === 404) return false;
      throw error;
    }
    return false;
  }

  const teamsInstall = (conversationId: string) =>
    teamsInstallationUpdate(connector.serviceUrl, { ...teamsPersonalChat, conversationId }, 'add');

  /** Claims the Bot Connector service puts in a token for this bot and this activity. */
  const channelClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: channelIssuer,
    aud: appId,
    serviceurl: connector.serviceUrl,
    nbf: epochSeconds(-60),
    iat: epochSeconds(-60),
    exp: epochSeconds(3600),
    ...overrides,
  });

  async function post(activity: unknown, authorization: string | undefined): Promise<Response> {
    return fetch(`${app?.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify(activity),
    });
  }

  test('a channel token signed with an endorsed key gets 200 and the reference is stored', async () => {
    const response = await post(teamsInstall('a:accepted'), `Bearer ${signToken(channelKey, channelClaims())}`);
    assert.equal(response.status, 200, await response.text());
    assert.ok(await isStored('a:accepted'));
  });

  const refused: [string, () => string | undefined][] = [
    ['no Authorization header', () => undefined],
    ['a bearer token that is not a JWT', () => 'Bearer not-a-jwt'],
    ['a JWT under another scheme than Bearer', () => `Basic ${signToken(channelKey, channelClaims())}`],
    ['a token whose signature was made with another key', () => `Bearer ${signToken({ kid: channelKey.kid, privateKey: unpublishedKey.privateKey }, channelClaims())}`],
    ['an unsigned token (alg none)', () => `Bearer ${unsignedToken(channelKey.kid, channelClaims())}`],
    ['a token signed with a key id the key set does not have', () => `Bearer ${signToken(unpublishedKey, channelClaims())}`],
    ['a token for another bot (wrong audience)', () => `Bearer ${signToken(channelKey, channelClaims({ aud: '11111111-2222-4333-8444-555555555555' }))}`],
    ['a token from another issuer', () => `Bearer ${signToken(channelKey, channelClaims({ iss: 'https://login.example.com' }))}`],
    // botbuilder allows 5 minutes of clock skew either way.
    ['an expired token', () => `Bearer ${signToken(channelKey, channelClaims({ exp: epochSeconds(-600), iat: epochSeconds(-4000), nbf: epochSeconds(-4000) }))}`],
    ['a token not valid yet', () => `Bearer ${signToken(channelKey, channelClaims({ nbf: epochSeconds(600), iat: epochSeconds(600) }))}`],
    ['a token whose serviceurl claim is not the activity\'s serviceUrl', () => `Bearer ${signToken(channelKey, channelClaims({ serviceurl: 'https://smba.trafficmanager.net/evil/' }))}`],
    ['a token signed with a key not endorsed for the activity\'s channel', () => `Bearer ${signToken(webchatOnlyKey, channelClaims())}`],
  ];
  refused.forEach(([description, authorization], index) => {
    test(`${description} gets 401 with a JSON reason and nothing is stored`, async () => {
      const conversationId = `a:refused-${index}`;
      const response = await post(teamsInstall(conversationId), authorization());
      assert.equal(response.status, 401, await response.clone().text());
      assert.equal(((await response.json()) as { error: string }).error, 'Unauthorized');
      assert.equal(await isStored(conversationId), false);
    });
  });

  /** Claims of an Azure AD token the Emulator gets with the bot's credentials (version 1.0: `appid`). */
  const emulatorClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: emulatorIssuer,
    aud: appId,
    appid: appId,
    ver: '1.0',
    nbf: epochSeconds(-60),
    iat: epochSeconds(-60),
    exp: epochSeconds(3600),
    ...overrides,
  });

  test('an Emulator token (Azure AD issuer, appid of this bot, key from the Emulator metadata) is accepted', async () => {
    const activity = emulatorConversationUpdate(connector.serviceUrl, 'emulator-accepted');
    const response = await post(activity, `Bearer ${signToken(emulatorKey, emulatorClaims())}`);
    assert.equal(response.status, 200, await response.text());
    assert.ok(await isStored('emulator-accepted'));
  });

  for (const [description, token] of [
    ['whose appid is another bot\'s', () => signToken(emulatorKey, emulatorClaims({ appid: '11111111-2222-4333-8444-555555555555' }))],
    ['signed with a channel key (not in the Emulator metadata)', () => signToken(channelKey, emulatorClaims())],
    ['without a version claim', () => signToken(emulatorKey, emulatorClaims({ ver: undefined }))],
    // botbuilder checks only appid here and fails the turn later with a 500.
    ['whose audience is not this bot', () => signToken(emulatorKey, emulatorClaims({ aud: 'https://api.botframework.com' }))],
  ] as const) {
    test(`an Emulator token ${description} gets 401 and nothing is stored`, async () => {
      const conversationId = `emulator-refused-${description.length}`;
      const response = await post(emulatorConversationUpdate(connector.serviceUrl, conversationId), `Bearer ${token()}`);
      assert.equal(response.status, 401, await response.text());
      assert.equal(await isStored(conversationId), false);
    });
  }
});
