import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { toStoredConversation } from '../../shared/storage/conversationStore';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { seedConversations } from '../support/seedConversations';

/**
 * Opt-out end to end: people write "stop" and "start" to the bot through /api/messages of the local
 * host, and the broadcasts that follow (POST /api/notify and a queued notification) skip them,
 * counting them in optedOut. Real Azurite, the fake connector.
 */

interface Summary {
  readonly matched: number;
  readonly sent: number;
  readonly optedOut: number;
  readonly failed: number;
}

interface QueuedStatus extends Summary {
  readonly state: string;
  readonly pending: number;
}

const fastQueues = {
  LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
  NOTIFICATIONS_SLICE_SECONDS: '3',
  NOTIFICATIONS_TENANT_LEASE_SECONDS: '3',
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
  NOTIFY_TENANT_RATE_PER_SECOND: '200',
  NOTIFY_CONVERSATION_RATE_PER_SECOND: '200',
};

/** A Teams message from the person of a seeded personal chat (seedConversations' ids). */
function messageFrom(serviceUrl: string, conversationId: string, tenantId: string, text: string) {
  return {
    type: 'message',
    id: `f:${conversationId}:${text}`,
    text,
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: `29:user-${conversationId}`, name: 'Person', aadObjectId: `aad-${conversationId}` },
    recipient: { id: '28:bot', name: 'Notifier' },
    conversation: { id: conversationId, conversationType: 'personal', tenantId, isGroup: false },
    channelData: { tenant: { id: tenantId } },
  };
}

describe('opt-out through the local host', () => {
  let storage: TestStorage;
  let connector: FakeConnector;
  let app: AppProcess;
  let ids: string[];
  const groupChat = '19:team-channel@thread.tacv2';
  const tenantOf = (index: number): string => `tenant-${index % 2}`;

  const post = (target: AppProcess, path: string, body: unknown): Promise<Response> =>
    fetch(`${target.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const notify = async (target: AppProcess, text: string): Promise<Summary> => {
    const response = await post(target, '/api/notify', { text });
    const summary = (await response.json()) as Summary;
    assert.equal(response.status, 200, JSON.stringify(summary));
    return summary;
  };

  /** Each person writes `text` to the bot; returns the bot's answers. */
  const write = async (indexes: readonly number[], text: string): Promise<string[]> => {
    connector.reset();
    for (const index of indexes) {
      const response = await post(app, '/api/messages', messageFrom(connector.serviceUrl, ids[index] as string, tenantOf(index), text));
      assert.equal(response.status, 200, await response.text());
    }
    const answers = connector.received.map((activity) => activity.text ?? '');
    connector.reset();
    return answers;
  };

  const receivedBy = (text: string): Set<string> =>
    new Set(connector.received.filter((activity) => activity.text === text).map((activity) => activity.conversationId));

  before(async () => {
    [storage, connector] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector()]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    ids = await seedConversations(store, connector.serviceUrl, { count: 200, tenants: 2 });
    // A channel where the last one to write was the first person (who will opt out): the channel is everybody's.
    const channel = toStoredConversation({
      channelId: 'msteams',
      serviceUrl: connector.serviceUrl,
      conversation: { id: groupChat, tenantId: tenantOf(0), conversationType: 'channel', isGroup: true, name: '' },
      bot: { id: '28:bot', name: 'Notifier' },
      user: { id: `29:user-${ids[0]}`, name: '', aadObjectId: `aad-${ids[0]}` },
    });
    assert.ok(channel.ok);
    await store.upsert(channel.conversation);
    app = await startApp({ settings: appSettings(storage.connectionString, fastQueues) });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  const first50 = Array.from({ length: 50 }, (_, i) => i * 4);
  const back10 = first50.slice(0, 10);

  test('"stop" from 50 people: each is told plainly, and the next broadcast skips them and counts 50', async () => {
    const answers = await write(first50, 'stop');
    assert.equal(answers.length, 50);
    for (const answer of answers) assert.match(answer, /you will not get notifications from me any more/);

    const summary = await notify(app, 'after the stops');
    assert.deepEqual({ matched: summary.matched, sent: summary.sent, optedOut: summary.optedOut }, { matched: 201, sent: 151, optedOut: 50 });
    const reached = receivedBy('after the stops');
    for (const index of first50) assert.equal(reached.has(ids[index] as string), false, `${ids[index]} opted out`);
    assert.equal(reached.has(groupChat), true, 'the channel is not skipped for one person');
    assert.equal(reached.size, 151);
  });

  test('a queued notification skips the same 50 and shows optedOut in its status', async () => {
    connector.reset();
    const response = await post(app, '/api/notifications', { id: 'optout-queued', text: 'queued after the stops' });
    assert.equal(response.status, 202);
    let status: QueuedStatus | undefined;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await delay(200)) {
      status = (await (await fetch(`${app.baseUrl}/api/notifications/optout-queued`)).json()) as QueuedStatus;
      if (status.state === 'completed' || status.state === 'failed') break;
    }
    assert.deepEqual(
      { state: status?.state, matched: status?.matched, sent: status?.sent, optedOut: status?.optedOut, pending: status?.pending },
      { state: 'completed', matched: 201, sent: 151, optedOut: 50, pending: 0 },
    );
    assert.equal(receivedBy('queued after the stops').size, 151);
  });

  test('"start" from 10 of them: the broadcast after reaches those 10 again', async () => {
    const answers = await write(back10, 'start');
    for (const answer of answers) assert.match(answer, /get notifications from me again/);

    const summary = await notify(app, 'after the starts');
    assert.deepEqual({ sent: summary.sent, optedOut: summary.optedOut }, { sent: 161, optedOut: 40 });
    const reached = receivedBy('after the starts');
    for (const index of back10) assert.equal(reached.has(ids[index] as string), true, `${ids[index]} is back`);
  });

  test('with opt-out turned off nobody is skipped, and "stop" is answered that it cannot be turned off here', async () => {
    await app.stop();
    app = await startApp({ settings: appSettings(storage.connectionString, { ...fastQueues, NOTIFY_ALLOW_OPT_OUT: 'false' }) });
    connector.reset();

    const summary = await notify(app, 'opt-out off');
    assert.deepEqual({ sent: summary.sent, optedOut: summary.optedOut }, { sent: 201, optedOut: 0 });
    assert.equal(receivedBy('opt-out off').size, 201);

    const [answer] = await write([1], 'stop');
    assert.match(answer ?? '', /cannot be turned off/);
    const [helpText] = await write([1], 'hello');
    assert.doesNotMatch(helpText ?? '', /stop/i, 'the help does not offer it');
  });
});
