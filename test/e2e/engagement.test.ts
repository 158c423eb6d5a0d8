import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { countRows } from '../support/notificationRows';
import { seedConversations } from '../support/seedConversations';

/**
 * Acknowledgements and read receipts end to end: queued notifications through the local host and
 * the fake connector, then people pressing the button and reading, as Teams posts those to
 * /api/messages (an `adaptiveCard/action` invoke, a `readReceipt` event). Real Azurite.
 */

interface Status {
  readonly state: string;
  readonly matched: number | null;
  readonly sent: number;
  readonly acknowledged: number | null;
  readonly read: number;
  readonly readCovers: string;
  readonly reminders: readonly { readonly id: string; readonly state: string; readonly reminded: number; readonly acknowledged: number; readonly failed: number; readonly pending: number }[];
}

interface RecipientPage {
  readonly recipients: readonly { readonly conversationId: string; readonly acknowledgedAt: string | null; readonly readAt: string | null; readonly activityId: string | null }[];
  readonly nextAfter?: string;
}

const fastQueues = {
  LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
  NOTIFICATIONS_SLICE_SECONDS: '3',
  NOTIFICATIONS_TENANT_LEASE_SECONDS: '3',
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
  NOTIFY_TENANT_RATE_PER_SECOND: '200',
  NOTIFY_CONVERSATION_RATE_PER_SECOND: '200',
};

/** What Teams posts from the person of a seeded personal chat (seedConversations' ids), at their local time. */
function fromPerson(serviceUrl: string, conversationId: string, tenantId: string) {
  return {
    id: `f:${conversationId}:${Math.random()}`,
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    localTimestamp: new Date(Date.now() + 3_600_000).toISOString().replace('Z', '+01:00'),
    from: { id: `29:user-${conversationId}`, name: 'Person', aadObjectId: `aad-${conversationId}` },
    recipient: { id: '28:bot', name: 'Notifier' },
    conversation: { id: conversationId, conversationType: 'personal', tenantId, isGroup: false },
    channelData: { tenant: { id: tenantId } },
  };
}

describe('acknowledgements and read receipts through the local host', () => {
  let storage: TestStorage;
  let connector: FakeConnector;
  let app: AppProcess;
  let ackChats: string[];
  let readChats: string[];
  const tenantOf = (index: number, first: number): string => `tenant-${first + (index % 2)}`;

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const status = async (id: string): Promise<Status> => (await (await fetch(`${app.baseUrl}/api/notifications/${id}`)).json()) as Status;

  const sendAndWait = async (body: Record<string, unknown>): Promise<Status> => {
    const response = await post('/api/notifications', body);
    assert.equal(response.status, 202, await response.text());
    let current: Status | undefined;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await delay(200)) {
      current = await status(body['id'] as string);
      if (current.state === 'completed' || current.state === 'failed') break;
    }
    assert.equal(current?.state, 'completed', JSON.stringify(current));
    return current as Status;
  };

  const allRecipients = async (id: string, query = ''): Promise<RecipientPage['recipients'][number][]> => {
    const rows: RecipientPage['recipients'][number][] = [];
    let after: string | undefined;
    do {
      const page = (await (await fetch(`${app.baseUrl}/api/notifications/${id}/recipients?limit=1000${query}${after === undefined ? '' : `&after=${after}`}`)).json()) as RecipientPage;
      rows.push(...page.recipients);
      after = page.nextAfter;
    } while (after !== undefined);
    return rows;
  };

  before(async () => {
    [storage, connector] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector()]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    ackChats = await seedConversations(store, connector.serviceUrl, { count: 300, tenants: 2, prefix: 'a:ack' });
    readChats = await seedConversations(store, connector.serviceUrl, { count: 200, tenants: 2, prefix: 'a:read', firstTenant: 2 });
    app = await startApp({ settings: appSettings(storage.connectionString, fastQueues) });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  test('300 people get a button; 120 press it, 5 of them twice: the status shows 120, and the export lists the 180 others as not acknowledged', async () => {
    const sent = await sendAndWait({ id: 'ack-e2e', text: 'Fire drill at 10:00', acknowledge: { label: 'Got it' }, target: { tenantIds: ['tenant-0', 'tenant-1'] } });
    assert.deepEqual({ matched: sent.matched, sent: sent.sent, acknowledged: sent.acknowledged }, { matched: 300, sent: 300, acknowledged: 0 });
    const delivered = connector.received.filter((activity) => activity.text === 'Fire drill at 10:00');
    assert.equal(delivered.length, 300);
    assert.ok(delivered.every((activity) => activity.attachmentCount === 1), 'the text and the button go as one activity');

    const pressers = Array.from({ length: 120 }, (_, index) => index * 2 + 1);
    const pressTwice = pressers.slice(0, 5);
    const press = async (index: number): Promise<unknown> => {
      const invoke = {
        ...fromPerson(connector.serviceUrl, ackChats[index] as string, tenantOf(index, 0)),
        type: 'invoke',
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb: 'acknowledge', data: { notificationId: 'ack-e2e' } }, trigger: 'manual' },
      };
      const response = await post('/api/messages', invoke);
      assert.equal(response.status, 200);
      return response.json();
    };
    const firstAnswers = new Map<number, unknown>();
    for (let start = 0; start < pressers.length; start += 10) {
      const group = pressers.slice(start, start + 10);
      const answers = await Promise.all(group.map(press));
      group.forEach((index, i) => firstAnswers.set(index, answers[i]));
    }
    const sample = firstAnswers.get(pressers[0] as number) as { statusCode: number; type: string; value: { body: { text: string }[] } };
    assert.equal(sample.statusCode, 200);
    assert.equal(sample.type, 'application/vnd.microsoft.card.adaptive');
    assert.match(sample.value.body.map((block) => block.text).join(' '), /^Acknowledged at \d{2}:\d{2}$/);

    for (const index of pressTwice) assert.deepEqual(await press(index), firstAnswers.get(index), 'a second press shows the same card and time');

    assert.equal((await status('ack-e2e')).acknowledged, 120);
    const notAcknowledged = await allRecipients('ack-e2e', '&acknowledged=false');
    assert.equal(notAcknowledged.length, 180);
    const pressedChats = new Set(pressers.map((index) => ackChats[index]));
    assert.ok(notAcknowledged.every((row) => !pressedChats.has(row.conversationId) && row.acknowledgedAt === null));
    const acknowledged = await allRecipients('ack-e2e', '&acknowledged=true');
    assert.equal(acknowledged.length, 120);
    assert.ok(acknowledged.every((row) => row.acknowledgedAt !== null));
  });

  test('remind reaches the 180 who did not acknowledge, once each, and the same reminder again sends nothing more', async () => {
    connector.reset();
    const response = await post('/api/notifications/ack-e2e/remind', { id: 'first-reminder' });
    assert.equal(response.status, 202, await response.text());
    let reminder: Status['reminders'][number] | undefined;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await delay(200)) {
      reminder = (await status('ack-e2e')).reminders.find((item) => item.id === 'first-reminder');
      if (reminder?.state === 'done') break;
    }
    assert.deepEqual(reminder, { id: 'first-reminder', state: 'done', reminded: 180, acknowledged: 120, failed: 0, pending: 0 });
    const reminded = connector.received.filter((activity) => activity.text === 'Fire drill at 10:00');
    assert.equal(reminded.length, 180);
    assert.equal(new Set(reminded.map((activity) => activity.conversationId)).size, 180, 'each chat once');
    const pressedChats = new Set(Array.from({ length: 120 }, (_, index) => ackChats[index * 2 + 1]));
    assert.ok(reminded.every((activity) => !pressedChats.has(activity.conversationId)), 'nobody who acknowledged is reminded');
    assert.ok(reminded.every((activity) => activity.attachmentCount === 1), 'the reminder carries the button');

    // The same reminder again (a retried request): its pass has ended, nothing is queued or sent again.
    const again = await post('/api/notifications/ack-e2e/remind', { id: 'first-reminder' });
    assert.equal(again.status, 202);
    const answered = (await again.json()) as Status & { readonly reminderId: string };
    assert.equal(answered.reminderId, 'first-reminder');
    assert.deepEqual(answered.reminders, [reminder]);
    assert.equal(connector.received.filter((activity) => activity.text === 'Fire drill at 10:00').length, 180, 'the same reminder is not sent twice');
  });

  test('200 personal chats get a notification, 80 send a read receipt: read is 80, and the export has their readAt', async () => {
    connector.reset();
    const sent = await sendAndWait({ id: 'read-e2e', text: 'Quarterly results are out', target: { tenantIds: ['tenant-2', 'tenant-3'] } });
    assert.deepEqual({ matched: sent.matched, sent: sent.sent, read: sent.read }, { matched: 200, sent: 200, read: 0 });
    assert.equal(sent.readCovers, 'personal chats of people who have read receipts turned on');
    assert.equal((await post('/api/notifications/read-e2e/remind', {})).status, 409, 'no acknowledgements asked: nobody to remind');
    const messageIn = new Map(connector.received.filter((activity) => activity.text === 'Quarterly results are out').map((activity) => [activity.conversationId, activity.id]));

    const readers = Array.from({ length: 80 }, (_, index) => index * 2);
    for (let start = 0; start < readers.length; start += 10) {
      await Promise.all(
        readers.slice(start, start + 10).map(async (index) => {
          const chat = readChats[index] as string;
          const receipt = {
            ...fromPerson(connector.serviceUrl, chat, tenantOf(index, 2)),
            type: 'event',
            name: 'application/vnd.microsoft.readReceipt',
            value: { lastReadMessageId: messageIn.get(chat) },
          };
          const response = await post('/api/messages', receipt);
          assert.ok(response.status === 200 || response.status === 202, `${response.status} ${await response.text()}`);
        }),
      );
    }
    // A receipt for a message before this notification's (one id lower) marks nothing in a chat not read yet.
    const unreadChat = readChats[1] as string;
    const before = String(BigInt(messageIn.get(unreadChat) as string) - 1n);
    await post('/api/messages', { ...fromPerson(connector.serviceUrl, unreadChat, tenantOf(1, 2)), type: 'event', name: 'application/vnd.microsoft.readReceipt', value: { lastReadMessageId: before } });

    assert.equal((await status('read-e2e')).read, 80);
    const rows = await allRecipients('read-e2e');
    const readRows = rows.filter((row) => row.readAt !== null);
    assert.equal(readRows.length, 80);
    assert.deepEqual(new Set(readRows.map((row) => row.conversationId)), new Set(readers.map((index) => readChats[index])));
  });

  test('a press naming a notification that did not ask, or one that does not exist, is answered with a plain card and records nothing', async () => {
    const pressFor = async (notificationId: string): Promise<{ statusCode: number; value: { body: { text: string }[]; actions?: unknown } }> => {
      const invoke = {
        ...fromPerson(connector.serviceUrl, readChats[3] as string, tenantOf(3, 2)),
        type: 'invoke',
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb: 'acknowledge', data: { notificationId } }, trigger: 'manual' },
      };
      const response = await post('/api/messages', invoke);
      assert.equal(response.status, 200);
      return (await response.json()) as never;
    };
    for (const notificationId of ['read-e2e', 'no-such-notification']) {
      const answer = await pressFor(notificationId);
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(answer.value.body.map((block) => block.text), ['This message does not collect acknowledgements, so your press was not recorded. There is nothing you need to do.']);
      assert.equal(answer.value.actions, undefined);
      assert.equal(await countRows(storage.connectionString, 'acknowledgements', `PartitionKey eq '${notificationId}'`), 0, notificationId);
    }
    assert.ok((await countRows(storage.connectionString, 'acknowledgements', `PartitionKey eq 'ack-e2e'`)) > 120, 'the presses of the notification that asked are where this test looks');
  });
});
