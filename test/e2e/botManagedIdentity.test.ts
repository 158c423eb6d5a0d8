import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { teamsInstallationUpdate, teamsPersonalChat } from '../support/activities';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { identityNotAssigned, startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../support/managedIdentityEndpoint';
import { epochSeconds, signingKey, signToken, startOpenIdServer, type OpenIdServer } from '../support/openIdServer';
import { seedConversations } from '../support/seedConversations';

/**
 * The bot signs in with a user-assigned managed identity (MicrosoftAppType
 * UserAssignedMSI, no password), as the Azure deployment sets it up: through
 * `npm start`'s host, App Service's identity endpoint faked, the fake Bot
 * Connector accepting only the token that endpoint issued for the Bot
 * Framework, and channel tokens signed by a local OpenID key server.
 */

const clientId = '5e7f9a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const botFramework = 'https://api.botframework.com';

const fastQueues = {
  LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
  NOTIFICATIONS_SLICE_SECONDS: '3',
  NOTIFICATIONS_TENANT_LEASE_SECONDS: '3',
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
  AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2',
};

const channelKey = signingKey('channel-key', ['msteams']);

function managedIdentitySettings(storage: TestStorage, identity: ManagedIdentityEndpoint, keys: OpenIdServer): Record<string, string> {
  return appSettings(storage.connectionString, {
    ...fastQueues,
    MicrosoftAppType: 'UserAssignedMSI',
    MicrosoftAppId: clientId,
    MicrosoftAppTenantId: tenantId,
    MicrosoftAppPassword: '',
    ...identity.env,
    ToBotFromChannelOpenIdMetadataUrl: keys.channelMetadataUrl,
  });
}

interface NotifySummary {
  readonly matched: number;
  readonly sent: number;
  readonly failed: number;
  readonly stoppedEarly?: string;
}

async function notify(app: AppProcess, text: string): Promise<{ status: number; summary: NotifySummary }> {
  const response = await fetch(`${app.baseUrl}/api/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  return { status: response.status, summary: (await response.json()) as NotifySummary };
}

interface Status {
  readonly state: string;
  readonly sent: number;
  readonly pending: number;
  readonly error?: string;
  readonly failedWork: readonly { readonly tenantId: string; readonly error: string }[];
}

async function queueAndWait(app: AppProcess, id: string, text: string): Promise<Status> {
  const posted = await fetch(`${app.baseUrl}/api/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, text }) });
  assert.equal(posted.status, 202, await posted.text());
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await (await fetch(`${app.baseUrl}/api/notifications/${id}`)).json()) as Status;
    if (['completed', 'failed', 'cancelled'].includes(status.state)) return status;
    if (Date.now() > deadline) throw new Error(`${id} stayed ${status.state}\n${app.output().slice(-3_000)}`);
    await delay(200);
  }
}

function store(storage: TestStorage): TableConversationStore {
  return new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
}

describe('the bot signs in with a user-assigned managed identity, end to end', () => {
  let storage: TestStorage;
  let identity: ManagedIdentityEndpoint;
  let keys: OpenIdServer;
  let connector: FakeConnector;
  let app: AppProcess | undefined;
  let botToken = '';

  before(async () => {
    [storage, identity, keys] = await Promise.all([startTestStorage({ queues: true }), startManagedIdentityEndpoint(), startOpenIdServer({ channel: [channelKey], emulator: [] })]);
    botToken = identity.tokenFor(botFramework, clientId);
    // Like the Bot Connector: without the bot's token, 401.
    connector = await startFakeConnector({ requireAuthorization: `Bearer ${botToken}` });
    app = await startApp({
      settings: {
        ...managedIdentitySettings(storage, identity, keys),
        // Another app's service principal in the environment, as another SDK in the app might use: the bot still signs in as its managed identity.
        AZURE_CLIENT_ID: '0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e',
        AZURE_TENANT_ID: tenantId,
        AZURE_CLIENT_SECRET: 'a-secret-of-another-app',
        AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9/',
      },
    });
  });

  after(async () => {
    await app?.stop();
    await Promise.all([connector?.stop(), identity?.stop(), keys?.stop(), storage?.dispose()]);
  });

  const install = (conversationId: string) => teamsInstallationUpdate(connector.serviceUrl, { ...teamsPersonalChat, conversationId }, 'add');
  const channelToken = (): string =>
    signToken(channelKey, { iss: botFramework, aud: clientId, serviceurl: connector.serviceUrl, nbf: epochSeconds(-60), iat: epochSeconds(-60), exp: epochSeconds(3600) });

  async function postActivity(activity: unknown, authorization?: string): Promise<Response> {
    return fetch(`${app?.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify(activity),
    });
  }

  test('/api/messages still refuses a request without a channel token (401), and stores nothing', async () => {
    const response = await postActivity(install('a:msi-no-token'));
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'Unauthorized');
    assert.equal(await store(storage).get({ channelId: 'msteams', conversationId: 'a:msi-no-token' }), undefined);
  });

  test('/api/messages refuses a channel token whose audience is another bot', async () => {
    const forOtherBot = signToken(channelKey, { iss: botFramework, aud: '11111111-2222-4333-8444-555555555555', serviceurl: connector.serviceUrl, nbf: epochSeconds(-60), exp: epochSeconds(3600) });
    const response = await postActivity(install('a:msi-other-bot'), `Bearer ${forOtherBot}`);
    assert.equal(response.status, 401);
  });

  test('an install with a channel token for this identity is stored, and the welcome reaches the connector with the identity\'s token', async () => {
    const response = await postActivity(install('a:msi-installed'), `Bearer ${channelToken()}`);
    assert.equal(response.status, 200, await response.text());
    assert.ok(await store(storage).get({ channelId: 'msteams', conversationId: 'a:msi-installed' }));
    assert.equal(connector.deliveredCount('a:msi-installed'), 1, 'the welcome message was accepted by the connector');
  });

  test('POST /api/notify sends with the token the identity endpoint issued for the Bot Framework to this client id', async () => {
    connector.reset();
    const { status, summary } = await notify(app as AppProcess, 'signed in without a password');
    assert.equal(status, 200, JSON.stringify(summary));
    assert.deepEqual([summary.matched, summary.sent, summary.failed], [1, 1, 0]);
    assert.deepEqual(connector.received.map((activity) => [activity.conversationId, activity.text]), [['a:msi-installed', 'signed in without a password']]);
    assert.equal(connector.byStatus.get(401), undefined, 'the connector never refused a request');

    const botRequests = identity.requests.filter((request) => request.query.get('resource') === botFramework);
    assert.ok(botRequests.length > 0, 'the app asked the identity endpoint for a Bot Framework token');
    for (const request of botRequests) {
      assert.equal(request.headerMatched, true, 'with IDENTITY_HEADER as X-IDENTITY-HEADER');
      assert.equal(request.query.get('client_id'), clientId);
      assert.equal(request.query.get('api-version'), '2019-08-01');
    }
    assert.deepEqual(
      identity.requests.map((request) => request.query.get('resource')).filter((resource) => resource !== botFramework),
      [],
      'no token was asked for anything else (storage is Azurite with its key here)',
    );
  });

  test('a queued notification is delivered with the same token', async () => {
    connector.reset();
    const final = await queueAndWait(app as AppProcess, 'msi-queued', 'queued with a managed identity');
    assert.equal(final.state, 'completed', JSON.stringify(final));
    assert.equal(final.sent, 1);
    assert.deepEqual(connector.received.map((activity) => activity.text), ['queued with a managed identity']);
  });

  test('the token never appears in the app\'s log', () => {
    assert.equal(app?.output().includes(botToken), false);
  });
});

describe('a refused managed identity token', () => {
  let keys: OpenIdServer;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    keys = await startOpenIdServer({ channel: [channelKey], emulator: [] });
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await keys?.stop();
  });

  /** The app with three conversations stored whose serviceUrl is `connector`'s. */
  async function started(identity: ManagedIdentityEndpoint, connector: FakeConnector): Promise<AppProcess> {
    const storage = await startTestStorage({ queues: true });
    stops.push(() => storage.dispose(), () => connector.stop(), () => identity.stop());
    await seedConversations(store(storage), connector.serviceUrl, { count: 3, tenants: 1 });
    const app = await startApp({ settings: managedIdentitySettings(storage, identity, keys) });
    stops.push(() => app.stop());
    return app;
  }

  test('an identity endpoint that refuses (identity not assigned to the app) stops POST /api/notify before anything reaches the channel, saying so', async () => {
    const identity = await startManagedIdentityEndpoint({ refuse: identityNotAssigned });
    const connector = await startFakeConnector({ requireAuthorization: 'Bearer some-token-nobody-issued' });
    const app = await started(identity, connector);

    const { status, summary } = await notify(app, 'never arrives');

    // 502, as for any run the bot's credentials stopped.
    assert.equal(status, 502, JSON.stringify(summary));
    assert.equal(summary.sent, 0);
    assert.match(summary.stoppedEarly ?? '', /managed identity/);
    assert.match(summary.stoppedEarly ?? '', /No User Assigned or Delegated Managed Identity found/);
    assert.equal(connector.requests, 0, 'nothing reached the channel');
    assert.ok(identity.requests.some((request) => request.query.get('client_id') === clientId));
  });

  test('a token the connector refuses (401) stops POST /api/notify with the credentials hint, and a queued notification fails saying so', async () => {
    const identity = await startManagedIdentityEndpoint();
    const connector = await startFakeConnector({ requireAuthorization: 'Bearer a-token-of-another-bot' });
    const app = await started(identity, connector);

    const { status, summary } = await notify(app, 'refused by the channel');
    assert.equal(status, 502, JSON.stringify(summary));
    assert.equal(summary.sent, 0);
    assert.match(summary.stoppedEarly ?? '', /managed identity/);
    assert.match(summary.stoppedEarly ?? '', /401/);
    assert.ok((connector.byStatus.get(401) ?? 0) > 0);

    const final = await queueAndWait(app, 'msi-refused-queued', 'refused by the channel, queued');
    assert.equal(final.state, 'failed', JSON.stringify(final));
    assert.match(final.failedWork[0]?.error ?? '', /managed identity/);
    assert.equal(final.pending, 3);
  });
});
