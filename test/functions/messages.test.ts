import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { messages } from '../../functions/messages';
import { cardActionReceivedText } from '../../shared/bot/bot';
import { welcomeText } from '../../shared/bot/botTexts';
import { createServices, setServices, type Services } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { freePort, startAzurite, tableConnectionString, type RunningAzurite } from '../../scripts/azurite';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import {
  emulatorConversationUpdate,
  teamsCardAction,
  teamsChannel,
  teamsConversationUpdate,
  teamsInstallationUpdate,
  teamsMessage,
  teamsPersonalChat,
} from '../support/activities';
import { epochSeconds, signingKey, signToken, startOpenIdServer } from '../support/openIdServer';
import { recordingLogger } from '../support/recordingLogger';
import { storageAt } from '../support/storageAt';

let azurite: RunningAzurite;
let connector: FakeConnector;
let services: Services;
let tableNumber = 0;

before(async () => {
  [azurite, connector] = await Promise.all([startAzurite(), startFakeConnector()]);
});

after(async () => {
  setServices(undefined);
  await Promise.all([azurite?.stop(), connector?.stop()]);
});

/** Fresh services over a fresh Azurite table, installed for the `messages` function. */
function useApp(extraSettings: Record<string, string> = {}): void {
  const settings = loadSettings({
    AzureWebJobsStorage: azurite.connectionString,
    CONVERSATIONS_TABLE: `messages${++tableNumber}`,
    ...extraSettings,
  });
  services = createServices(settings, { logger: recordingLogger() });
  setServices(services);
}

async function storedCount(): Promise<number> {
  return (await services.store.list()).items.length;
}

function post(body: string | object, headers: Record<string, string> = {}) {
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/messages',
    headers: { 'content-type': 'application/json', ...headers },
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });
  return messages(request, new InvocationContext({ functionName: 'messages' }));
}

describe('messages function', () => {
  beforeEach(() => {
    useApp();
    connector.reset();
  });

  it('stores one row for an Emulator conversationUpdate, even when it is posted twice', async () => {
    const activity = emulatorConversationUpdate(connector.serviceUrl);
    assert.equal((await post(activity)).status, 200);
    assert.equal((await post(activity)).status, 200);

    const stored = await services.store.get({ channelId: 'emulator', conversationId: 'emulator-conversation-1' });
    assert.equal(stored?.serviceUrl, connector.serviceUrl);
    assert.equal(await storedCount(), 1);
    assert.deepEqual(
      connector.received.map((activity) => activity.text),
      [welcomeText('personal', { optOutAllowed: true })],
      'the user is welcomed once',
    );
  });

  it('stores a Teams installationUpdate add with its tenant and removes it on uninstall', async () => {
    const key = { channelId: 'msteams', conversationId: teamsPersonalChat.conversationId };
    await post(teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'add'));
    const stored = await services.store.get(key);
    assert.equal(stored?.tenantId, teamsPersonalChat.tenantId);
    assert.equal(stored?.aadObjectId, teamsPersonalChat.userAadObjectId);
    assert.equal(stored?.conversationType, 'personal');

    await post(teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'remove'));
    assert.equal(await services.store.get(key), undefined);
  });

  it('stores a Teams channel once, whichever thread the bot was mentioned in, and notifications go to the channel', async () => {
    await post(teamsConversationUpdate(connector.serviceUrl, teamsChannel, 'added'));
    for (const thread of ['1690000000000', '1690000000001']) {
      const inThread = { ...teamsChannel, conversationId: `${teamsChannel.conversationId};messageid=${thread}` };
      assert.equal((await post(teamsMessage(connector.serviceUrl, inThread))).status, 200);
    }

    const { items } = await services.store.list();
    assert.deepEqual(
      items.map((item) => [item.conversationId, item.reference.conversation?.id]),
      [['19:abc@thread.tacv2', '19:abc@thread.tacv2']],
    );
    assert.equal(items[0]?.conversationType, 'channel');

    await post(teamsConversationUpdate(connector.serviceUrl, teamsChannel, 'removed'));
    assert.equal(await storedCount(), 0);
  });

  it('answers an Adaptive Card action with the invoke response body', async () => {
    const response = await post(teamsCardAction(connector.serviceUrl, teamsPersonalChat));
    assert.equal(response.status, 200);
    assert.deepEqual(response.jsonBody, {
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: cardActionReceivedText, wrap: true }] },
    });
  });

  for (const [description, body] of [
    ['a body that is not JSON', '{"type": "message",'],
    ['a JSON array', '[]'],
    ['JSON without an activity type', JSON.stringify({ text: 'hi', conversation: { id: 'c1' } })],
    ['an activity whose type is not a string', JSON.stringify({ type: 42 })],
  ] as const) {
    it(`answers 400 with a JSON error for ${description} and stores nothing`, async () => {
      await post(emulatorConversationUpdate(connector.serviceUrl));
      const response = await post(body);
      assert.equal(response.status, 400);
      assert.match(String((response.jsonBody as { error?: unknown }).error), /JSON|type/);
      assert.equal(await storedCount(), 1, 'what was stored before is kept');
    });
  }
});

describe('messages function with storage down', () => {
  it('answers 503 with Retry-After when the reference cannot be saved, rather than 200 for a lost install, and logs the table', async () => {
    const deadStorage = tableConnectionString(await freePort());
    const settings = loadSettings({ AzureWebJobsStorage: deadStorage, CONVERSATIONS_TABLE: 'capturedConversations' });
    const logger = recordingLogger();
    const store = new TableConversationStore(storageAt(deadStorage), 'capturedConversations', logger, { maxRetries: 0 });
    setServices(createServices(settings, { logger, store }));
    const context = new InvocationContext({ functionName: 'messages' });
    const errors: string[] = [];
    context.error = (...args: unknown[]) => void errors.push(args.join(' '));

    const response = await messages(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost:7071/api/messages',
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify(teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'add')) },
      }),
      context,
    );
    assert.equal(response.status, 503);
    assert.equal(new Headers(response.headers as Record<string, string>).get('retry-after'), '10');
    assert.equal((response.jsonBody as { error: string }).error, 'StorageUnavailable');
    assert.match(errors.join('\n'), /table "capturedConversations" unavailable/);
  });
});

describe('messages function with bot credentials configured', () => {
  beforeEach(() => {
    useApp({ MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-a-real-secret' });
  });

  it('answers 401 to a request without an Authorization header and stores nothing', async () => {
    const response = await post(teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'add'));
    assert.equal(response.status, 401);
    assert.equal(await storedCount(), 0);
  });

  it('answers 401 to a request whose bearer token is not a JWT and stores nothing', async () => {
    const activity = teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'add');
    const response = await post(activity, { authorization: 'Bearer not-a-jwt' });
    assert.equal(response.status, 401);
    assert.equal(await storedCount(), 0);
  });
});

describe('messages function when the signing keys cannot be loaded', () => {
  it('answers 500, not 401, when the OpenID configuration is missing: our outage, not a bad token; nothing is stored', async () => {
    const appId = '00000000-0000-0000-0000-000000000002';
    const channelKey = signingKey('outage-key', ['msteams']);
    const keys = await startOpenIdServer({ channel: [channelKey], emulator: [] });
    try {
      useApp({
        MicrosoftAppId: appId,
        MicrosoftAppPassword: 'not-a-real-secret',
        ToBotFromChannelOpenIdMetadataUrl: new URL('/nowhere/.well-known/openidconfiguration', keys.channelMetadataUrl).toString(),
      });
      const claims = { iss: 'https://api.botframework.com', aud: appId, serviceurl: connector.serviceUrl, nbf: epochSeconds(-60), exp: epochSeconds(3600) };
      const response = await post(teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'add'), {
        authorization: `Bearer ${signToken(channelKey, claims)}`,
      });
      assert.equal(response.status, 500);
      assert.deepEqual(response.jsonBody, { error: 'InternalError', message: 'The bot could not handle the activity.' });
      assert.equal(keys.fetches.get('/nowhere/.well-known/openidconfiguration'), 1, 'the configuration was asked for');
      assert.equal(await storedCount(), 0);
    } finally {
      await keys.stop();
    }
  });
});
