import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  ActivityTypes,
  CallerIdConstants,
  ConfigurationBotFrameworkAuthentication,
  TurnContext,
  type Activity,
  type CloudAdapter,
  type ConversationReference,
} from 'botbuilder';
import {
  AuthenticationConstants,
  ClaimsIdentity,
  ServiceClientCredentialsFactory,
  type ConnectorClientOptions,
  type ServiceClientCredentials,
} from 'botframework-connector';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';
import type { BroadcastSummary } from '../../shared/delivery/broadcastTypes';
import { NotificationBot } from '../../shared/bot/bot';
import { createAdapter } from '../../shared/bot/adapter';
import { SendTimeoutError } from '../../shared/delivery/deliveryError';
import { ReusedConnectorClients } from '../../shared/bot/connectorClientReuse';
import { createProactiveSender } from '../../shared/delivery/proactiveSender';
import { toStoredConversation, type ConversationStore } from '../../shared/storage/conversationStore';
import { createServices, type Services } from '../../shared/services';
import { loadSettings, type Settings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { recordingLogger } from '../support/recordingLogger';

const botAppId = '11111111-2222-3333-4444-555555555555';
const bearer = 'Bearer test-token-for-the-fake-connector';

/** Credentials that sign every request with a fixed token (Azure AD cannot be reached from tests). */
class FixedTokenCredentialsFactory extends ServiceClientCredentialsFactory {
  /** `failTokenWith: 'hang'`: the token request never answers. */
  /** How many times the adapter built credentials (once per connector client). */
  created = 0;

  constructor(private readonly failTokenWith?: Error | 'hang') {
    super();
  }

  override async isValidAppId(appId = ''): Promise<boolean> {
    return appId === botAppId;
  }

  override async isAuthenticationDisabled(): Promise<boolean> {
    return false;
  }

  override async createCredentials(appId: string): Promise<ServiceClientCredentials> {
    if (appId !== botAppId) throw new Error('Invalid appId.');
    this.created += 1;
    const failure = this.failTokenWith;
    return {
      async signRequest(request) {
        if (failure === 'hang') return new Promise<never>(() => undefined);
        if (failure !== undefined) throw failure;
        request.headers.set('Authorization', bearer);
        return request;
      },
    };
  }
}

let azurite: RunningAzurite | undefined;
const connectors: FakeConnector[] = [];
let tables = 0;

before(async () => {
  azurite = await startAzurite();
});
afterEach(async () => {
  await Promise.all(connectors.splice(0).map((connector) => connector.stop()));
});
after(async () => {
  await azurite?.stop();
});

async function fakeConnector(options: FakeConnectorOptions = {}): Promise<FakeConnector> {
  const connector = await startFakeConnector({ latencyMs: 5, ...options });
  connectors.push(connector);
  return connector;
}

function testSettings(extra: Record<string, string> = {}): Settings {
  if (azurite === undefined) throw new Error('Azurite did not start');
  tables += 1;
  return loadSettings({
    AzureWebJobsStorage: azurite.connectionString,
    CONVERSATIONS_TABLE: `broadcast${tables}`,
    // Rate is not what these tests are about; the benchmark measures it.
    NOTIFY_TENANT_RATE_PER_SECOND: '2000',
    NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000',
    NOTIFY_CONCURRENCY: '32',
    ...extra,
  });
}

function services(settings: Settings, credentialsFactory?: ServiceClientCredentialsFactory): Services {
  return createServices(settings, {
    logger: recordingLogger(),
    ...(credentialsFactory === undefined ? {} : { adapterOptions: { credentialsFactory } }),
  });
}

function teamsReference(serviceUrl: string, conversationId: string, tenantId = 'tenant-1'): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: conversationId, tenantId, conversationType: 'personal', isGroup: false, name: '' },
    bot: { id: `28:${botAppId}`, name: 'Notifier' },
    user: { id: `29:user-${conversationId}`, name: '', aadObjectId: `aad-${conversationId}` },
  };
}

async function seed(store: ConversationStore, serviceUrl: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const check = toStoredConversation(teamsReference(serviceUrl, id));
    if (!check.ok) throw new Error(check.reason);
    await store.upsert(check.conversation);
  }
}

async function storedIds(store: ConversationStore): Promise<string[]> {
  const page = await store.list({ pageSize: 1_000 });
  return page.items.map((item) => item.conversationId).sort();
}

const ids = (count: number, prefix = 'a:conv'): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

const notification = { id: 'n1', activity: { type: 'message', text: 'Deployment finished' } };

function assertCountsAddUp(summary: BroadcastSummary): void {
  assert.equal(summary.sent + summary.failed + summary.alreadySent + summary.notAttempted, summary.matched);
}

describe('broadcast through CloudAdapter, the fake Bot Connector and Azurite', () => {
  test('with 10% random 429s, all 200 recipients get the message exactly once and every attempt is counted', async () => {
    const connector = await fakeConnector({ randomFaults: { rate429: 0.1, seed: 7 } });
    const app = services(testSettings());
    const recipients = ids(200);
    await seed(app.store, connector.serviceUrl, recipients);

    const summary = await app.broadcast(notification);

    assert.deepEqual(
      { matched: summary.matched, sent: summary.sent, failed: summary.failed, notAttempted: summary.notAttempted },
      { matched: 200, sent: 200, failed: 0, notAttempted: 0 },
    );
    assert.ok(recipients.every((id) => connector.deliveredCount(id) === 1));
    assert.equal(connector.duplicates().size, 0);
    assert.ok(connector.throttled > 0, 'the seed produced some 429s');
    // botbuilder's own retries are off: every request the channel saw is an attempt the engine counted.
    assert.equal(connector.throttled, summary.retried);
    assert.equal(connector.requests, summary.sent + summary.retried);
    assertCountsAddUp(summary);
  });

  test('a dropped connection and a 503 are retried by the engine and delivered once', async () => {
    const connector = await fakeConnector({
      faults: ({ conversationId, attempt }) =>
        attempt > 1 ? undefined : conversationId.endsWith('1') ? { dropConnection: true } : conversationId.endsWith('2') ? { status: 503 } : undefined,
    });
    const app = services(testSettings());
    const recipients = ids(5);
    await seed(app.store, connector.serviceUrl, recipients);
    const summary = await app.broadcast(notification);
    assert.deepEqual([summary.sent, summary.retried, summary.failed], [5, 2, 0]);
    assert.ok(recipients.every((id) => connector.deliveredCount(id) === 1));
  });

  test('conversations that are gone (404, 403) are deleted from the table; MessageWritesBlocked and 413 are kept', async () => {
    const recipients = ids(10);
    const [notFound, notInRoster, blocked, disabled, writesBlocked, tooBig] = recipients;
    const connector = await fakeConnector({
      conversationFaults: {
        [notFound ?? '']: { status: 404, code: 'ConversationNotFound' },
        [notInRoster ?? '']: { status: 403, code: 'BotNotInConversationRoster' },
        [blocked ?? '']: { status: 403, code: 'ConversationBlockedByUser' },
        [disabled ?? '']: { status: 403, code: 'BotDisabledByAdmin' },
        [writesBlocked ?? '']: { status: 403, code: 'MessageWritesBlocked' },
        [tooBig ?? '']: { status: 413, code: 'MessageSizeTooBig' },
      },
    });
    const app = services(testSettings());
    await seed(app.store, connector.serviceUrl, recipients);

    const summary = await app.broadcast(notification);

    assert.deepEqual([summary.sent, summary.failed, summary.pruned, summary.retried], [4, 6, 4, 0]);
    const reread = new TableConversationStore(app.settings.conversationsStorage, app.settings.conversationsTable);
    assert.deepEqual(await storedIds(reread), recipients.slice(4).sort());
    const byId = new Map(summary.failures.map((failure) => [failure.conversationId, failure]));
    assert.deepEqual(
      [byId.get(notFound ?? '')?.status, byId.get(notFound ?? '')?.code, byId.get(notFound ?? '')?.pruned],
      [404, 'ConversationNotFound', true],
    );
    assert.deepEqual([byId.get(writesBlocked ?? '')?.code, byId.get(writesBlocked ?? '')?.pruned], ['MessageWritesBlocked', false]);
    assert.deepEqual([byId.get(tooBig ?? '')?.status, byId.get(tooBig ?? '')?.attempts], [413, 1]);
    assert.equal(connector.requests, 10);
  });

  test('a 401 from the channel stops the run early with one error about the bot credentials', async () => {
    // The connector wants a token; this app has none (MicrosoftAppId empty).
    const connector = await fakeConnector({ requireAuthorization: bearer });
    const app = services(testSettings({ NOTIFY_CONCURRENCY: '4' }));
    await seed(app.store, connector.serviceUrl, ids(100));

    const summary = await app.broadcast(notification);

    assert.match(summary.stoppedEarly ?? '', /MicrosoftAppId and MicrosoftAppPassword/);
    assert.match(summary.stoppedEarly ?? '', /401/);
    assert.equal(summary.sent, 0);
    assert.ok(connector.requests <= 5, `${connector.requests} requests reached the channel`);
    assert.equal(summary.failed, connector.requests);
    assert.equal(summary.notAttempted, 100 - connector.requests);
    assertCountsAddUp(summary);
  });

  test('a token that cannot be obtained stops the run before anything reaches the channel', async () => {
    const connector = await fakeConnector({ requireAuthorization: bearer });
    const settings = testSettings({ MicrosoftAppId: botAppId, MicrosoftAppPassword: 'unused' });
    const app = services(settings, new FixedTokenCredentialsFactory(new Error('AADSTS7000215: Invalid client secret provided.')));
    await seed(app.store, connector.serviceUrl, ids(50));

    const summary = await app.broadcast(notification);

    assert.match(summary.stoppedEarly ?? '', /MicrosoftAppPassword.*AADSTS7000215/);
    assert.equal(connector.requests, 0);
    assert.equal(summary.sent, 0);
    assertCountsAddUp(summary);
  });

  test('references captured by one process are delivered by a new process (new adapter, no trustServiceUrl), with a token', async () => {
    const connector = await fakeConnector({ requireAuthorization: bearer });
    const settings = testSettings({ MicrosoftAppId: botAppId, MicrosoftAppPassword: 'unused' });

    // Process 1: Teams installs the bot in three chats; the bot stores the references (and says hello).
    const first = services(settings, new FixedTokenCredentialsFactory());
    const bot = new NotificationBot(first.store, recordingLogger());
    const recipients = ids(3, 'a:installed');
    for (const id of recipients) await receiveFromTeams(first.adapter, bot, installActivity(connector.serviceUrl, id));
    assert.ok(recipients.every((id) => connector.deliveredCount(id) === 1), 'welcome messages sent in process 1');
    connector.reset();

    // Process 2: nothing shared with process 1 but the table.
    const second = services(settings, new FixedTokenCredentialsFactory());
    const summary = await second.broadcast(notification);

    assert.deepEqual([summary.matched, summary.sent, summary.failed], [3, 3, 0]);
    assert.ok(recipients.every((id) => connector.deliveredCount(id) === 1));
    assert.deepEqual(connector.byStatus.get(401), undefined);
    assert.ok(connector.received.every((activity) => activity.text === 'Deployment finished'));
  });

  test('an attempt that gets no answer in time fails as a timeout, after one request', async () => {
    const connector = await fakeConnector({ latencyMs: 2_000 });
    const adapter = createAdapter(testSettings(), recordingLogger());
    const send = createProactiveSender(adapter, '', { attemptTimeoutMs: 100 });
    const check = toStoredConversation(teamsReference(connector.serviceUrl, 'a:slow'));
    assert.ok(check.ok);
    await assert.rejects(send(check.conversation, { type: 'message', text: 'hi' }), SendTimeoutError);
    assert.equal(connector.requests, 1);
  });

  test('a token request that never answers fails the attempt as a timeout, and nothing reaches the channel', { timeout: 10_000 }, async () => {
    const connector = await fakeConnector({ requireAuthorization: bearer });
    const settings = testSettings({ MicrosoftAppId: botAppId, MicrosoftAppPassword: 'unused' });
    const adapter = createAdapter(settings, recordingLogger(), { credentialsFactory: new FixedTokenCredentialsFactory('hang') });
    const send = createProactiveSender(adapter, botAppId, { attemptTimeoutMs: 100 });
    const check = toStoredConversation(teamsReference(connector.serviceUrl, 'a:hung-token'));
    assert.ok(check.ok);
    await assert.rejects(send(check.conversation, { type: 'message', text: 'hi' }), SendTimeoutError);
    assert.equal(connector.requests, 0);
  });

  test('a request still waiting at the wire gate when its attempt times out is never sent', { timeout: 10_000 }, async () => {
    const connector = await fakeConnector();
    const adapter = createAdapter(testSettings(), recordingLogger());
    const send = createProactiveSender(adapter, '', { attemptTimeoutMs: 100 });
    const check = toStoredConversation(teamsReference(connector.serviceUrl, 'a:gated'));
    assert.ok(check.ok);
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    await assert.rejects(send(check.conversation, { type: 'message', text: 'hi' }, { beforeWire: () => gate }), SendTimeoutError);
    openGate();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(connector.requests, 0);
  });

  test('reuses connections and connector clients: 200 sends over at most the concurrency\'s connections, credentials built once per client', async () => {
    const connector = await fakeConnector({ requireAuthorization: bearer });
    const settings = testSettings({ MicrosoftAppId: botAppId, MicrosoftAppPassword: 'unused', NOTIFY_CONCURRENCY: '8' });
    const credentials = new FixedTokenCredentialsFactory();
    const app = services(settings, credentials);
    await seed(app.store, connector.serviceUrl, ids(200));
    credentials.created = 0;

    const summary = await app.broadcast(notification);

    assert.equal(summary.sent, 200);
    assert.equal(connector.requests, 200);
    assert.ok(connector.connections <= 8, `${connector.connections} connections opened`);
    assert.ok(connector.maxOpenConnections <= 8);
    // One connector client for the one serviceUrl, and the user token client botbuilder makes for every turn: not one per send.
    assert.equal(credentials.created, 2);
  });

  test('keeps at most maxSocketsPerOrigin connections open to one serviceUrl origin', async () => {
    const connector = await fakeConnector({ latencyMs: 50 });
    const adapter = createAdapter(testSettings(), recordingLogger(), { wrapAuthentication: (auth) => new ReusedConnectorClients(auth) });
    const send = createProactiveSender(adapter, '', { maxSocketsPerOrigin: 2 });
    const conversations = ids(12, 'a:bounded').map((id) => {
      const check = toStoredConversation(teamsReference(connector.serviceUrl, id));
      assert.ok(check.ok);
      return check.conversation;
    });

    await Promise.all(conversations.map((conversation) => send(conversation, { type: 'message', text: 'hi' })));

    assert.equal(connector.received.length, 12);
    assert.equal(connector.maxOpenConnections, 2);
    assert.equal(connector.connections, 2);
  });

  test('a shared connector client still makes one attempt per send: a 429 reaches the channel once', async () => {
    const connector = await fakeConnector({ conversationFaults: { 'a:throttled': { status: 429, retryAfterSeconds: 0 } } });
    const adapter = createAdapter(testSettings(), recordingLogger(), { wrapAuthentication: (auth) => new ReusedConnectorClients(auth) });
    const send = createProactiveSender(adapter, '');
    const [throttled, fine] = ['a:throttled', 'a:fine'].map((id) => {
      const check = toStoredConversation(teamsReference(connector.serviceUrl, id));
      assert.ok(check.ok);
      return check.conversation;
    });
    assert.ok(throttled !== undefined && fine !== undefined);

    await send(fine, { type: 'message', text: 'first, so the client exists' });
    await assert.rejects(send(throttled, { type: 'message', text: 'hi' }));

    assert.equal(connector.requests, 2);
  });

  test('botbuilder ignores ConnectorClientOptions.retryOptions: its pipeline still retries a 429 three times', async () => {
    // Why the proactive sender removes the retry policy itself. If this fails, botbuilder started passing
    // retryOptions on, and `{ retryOptions: { maxRetries: 0 } }` in createAdapter would be the simpler way.
    const connector = await fakeConnector({ conversationFaults: { 'a:throttled': { status: 429, retryAfterSeconds: 0 } } });
    const settings = testSettings();
    // Not even in botbuilder's ConnectorClientOptions type: it only compiles as an extra property.
    const noRetries: ConnectorClientOptions & { retryOptions: { maxRetries: number } } = { retryOptions: { maxRetries: 0 } };
    const adapter = createAdapter(settings, recordingLogger(), { connectorClientOptions: noRetries });
    const reference = teamsReference(connector.serviceUrl, 'a:throttled') as ConversationReference;
    await assert.rejects(adapter.continueConversationAsync('', reference, async (context) => void (await context.sendActivity('hi'))));
    assert.equal(connector.requests, 4);
  });
});

/** A Teams installation as CloudAdapter sees it once the channel's JWT has been validated. */
function installActivity(serviceUrl: string, conversationId: string): Activity {
  const reference = teamsReference(serviceUrl, conversationId);
  return {
    type: ActivityTypes.InstallationUpdate,
    action: 'add',
    id: `install-${conversationId}`,
    timestamp: new Date(),
    channelId: 'msteams',
    serviceUrl,
    from: { id: reference.user?.id ?? '', name: '', aadObjectId: reference.user?.aadObjectId ?? '' },
    recipient: { id: reference.bot?.id ?? '', name: 'Notifier' },
    conversation: { id: conversationId, tenantId: 'tenant-1', conversationType: 'personal', isGroup: false, name: '' },
    channelData: { tenant: { id: 'tenant-1' } },
  } as Activity;
}

/**
 * Runs an inbound activity through the adapter as if its JWT had been validated
 * (tests cannot get a token signed by the Bot Framework).
 */
async function receiveFromTeams(adapter: CloudAdapter, bot: NotificationBot, activity: Activity): Promise<void> {
  const claimsIdentity = new ClaimsIdentity(
    [
      { type: AuthenticationConstants.AudienceClaim, value: botAppId },
      { type: AuthenticationConstants.ServiceUrlClaim, value: activity.serviceUrl },
    ],
    true,
  );
  const authentication = new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: botAppId }, new FixedTokenCredentialsFactory());
  await adapter.processActivityDirect(
    {
      claimsIdentity,
      audience: AuthenticationConstants.ToChannelFromBotOAuthScope,
      callerId: CallerIdConstants.PublicAzureChannel,
      connectorFactory: authentication.createConnectorFactory(claimsIdentity),
    },
    activity,
    (context: TurnContext) => bot.run(context),
  );
}
