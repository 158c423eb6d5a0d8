import { scheduleDueMinutesAgo } from '../support/dueSchedule';
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpRequest, InvocationContext, type HttpResponseInit, type Timer } from '@azure/functions';
import type { ConversationReference } from 'botbuilder';
import { notify } from '../../functions/notify';
import { notifyTimer } from '../../functions/notifyTimer';
import { freePort, startAzurite, tableConnectionString, type RunningAzurite } from '../../scripts/azurite';
import { startFakeConnector, type Fault, type FakeConnector } from '../../scripts/fakeConnector';
import type { BroadcastSummary } from '../../shared/delivery/broadcastTypes';
import { toStoredConversation, type ConversationStore } from '../../shared/storage/conversationStore';
import type { DeliveryLedgers } from '../../shared/ledgers/deliveryLedgers';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { MemoryDeliveryLedgers } from '../../shared/ledgers/memoryDeliveryLedgers';
import { adaptiveCardContentType, messageActivity, requestFingerprint } from '../../shared/notifications/notificationRequest';
import { createServices, setServices, type Services } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { TableDeliveryLedgers } from '../../shared/ledgers/tableDeliveryLedgers';
import { recordingLogger } from '../support/recordingLogger';
import { startQueueWorkers } from '../../scripts/queueWorkers';
import { storageAt } from '../support/storageAt';

let azurite: RunningAzurite;
let connector: FakeConnector;
let services: Services;
/** Conversation ids the fake connector answers with a fault, set per test. */
let faults = new Map<string, Fault>();

before(async () => {
  [azurite, connector] = await Promise.all([
    startAzurite({ queue: true }),
    startFakeConnector({ recordActivities: true, faults: ({ conversationId }) => faults.get(conversationId) }),
  ]);
});

after(async () => {
  setServices(undefined);
  await Promise.all([azurite?.stop(), connector?.stop()]);
});

const bot = { id: '28:bot', name: 'Notifier' };

/** Three Teams conversations: two in tenant t1 (a personal chat, a group chat), a channel in t2. */
const people = {
  adaPersonal: { id: 'a:1ada-personal', type: 'personal', tenant: 't1', user: { id: '29:ada', aadObjectId: 'aad-ada' } },
  t1Group: { id: '19:group@thread.v2', type: 'groupChat', tenant: 't1', user: { id: '29:bob', aadObjectId: 'aad-bob' } },
  t2Channel: { id: '19:general@thread.tacv2', type: 'channel', tenant: 't2', user: { id: '29:cy', aadObjectId: 'aad-cy' } },
};

function reference(conversation: (typeof people)[keyof typeof people]): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: connector.serviceUrl,
    bot,
    user: { id: conversation.user.id, name: conversation.user.id, aadObjectId: conversation.user.aadObjectId },
    conversation: {
      id: conversation.id,
      conversationType: conversation.type,
      tenantId: conversation.tenant,
      isGroup: conversation.type !== 'personal',
      name: '',
    },
  };
}

interface AppOptions {
  readonly store?: ConversationStore;
  /** Absent: in memory; 'table': the real ledgers in Azurite, as createServices builds them. */
  readonly ledgers?: DeliveryLedgers | 'table';
  readonly settings?: Record<string, string>;
}

async function useApp(options: AppOptions = {}): Promise<void> {
  const settings = loadSettings({ AzureWebJobsStorage: azurite.connectionString, ...options.settings });
  const store = options.store ?? new MemoryConversationStore();
  const ledgers = options.ledgers === 'table' ? undefined : (options.ledgers ?? new MemoryDeliveryLedgers());
  services = createServices(settings, { store, logger: recordingLogger(), ...(ledgers === undefined ? {} : { ledgers }) });
  setServices(services);
  if (options.store === undefined) {
    for (const conversation of Object.values(people)) {
      const check = toStoredConversation(reference(conversation));
      assert.ok(check.ok);
      await store.upsert(check.conversation);
    }
  }
}

function context(name: string): InvocationContext & { lines: string[] } {
  const lines: string[] = [];
  const invocation = new InvocationContext({
    functionName: name,
    logHandler: (level, ...args) => lines.push(`${level}: ${format(...args)}`),
  });
  return Object.assign(invocation, { lines });
}

function post(body: string | object): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/notify',
    headers: { 'content-type': 'application/json' },
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });
  return notify(request, context('notify'));
}

function get(): Promise<HttpResponseInit> {
  return notify(new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/notify' }), context('notify'));
}

function summaryOf(response: HttpResponseInit): BroadcastSummary {
  return response.jsonBody as BroadcastSummary;
}

function receivedBy(): string[] {
  return connector.received.map((activity) => activity.conversationId).sort();
}

async function storedIds(): Promise<string[]> {
  return (await services.store.list()).items.map((conversation) => conversation.conversationId).sort();
}

describe('notify function: POST', () => {
  beforeEach(async () => {
    faults = new Map();
    connector.reset();
    await useApp();
  });

  it('sends the text to every stored conversation and answers 200 with the summary', async () => {
    const response = await post({ text: 'Deploy finished' });

    assert.equal(response.status, 200);
    const summary = summaryOf(response);
    assert.equal(summary.matched, 3);
    assert.equal(summary.sent, 3);
    assert.equal(summary.failed, 0);
    assert.equal(summary.alreadySent, 0);
    assert.match(summary.id, /^[0-9a-f-]{36}$/, 'an id is generated when the client sends none');
    assert.deepEqual(receivedBy(), Object.values(people).map((p) => p.id).sort());
    assert.ok(connector.received.every((activity) => activity.text === 'Deploy finished' && activity.type === 'message'));
  });

  it('sends an Adaptive Card as an attachment', async () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Release 2.0 is out' }] };
    const response = await post({ card, target: { conversationIds: [people.adaPersonal.id] } });

    assert.equal(response.status, 200);
    assert.equal(summaryOf(response).sent, 1);
    const [activity] = connector.received;
    assert.equal(activity?.attachmentCount, 1);
    assert.deepEqual(activity?.activity?.['attachments'], [{ contentType: adaptiveCardContentType, content: card }]);
  });

  it('sends only to the conversations that match the target', async () => {
    const byTenant = await post({ text: 'tenant t1 only', target: { tenantIds: ['t1'] } });
    assert.equal(summaryOf(byTenant).matched, 2);
    assert.deepEqual(receivedBy(), [people.t1Group.id, people.adaPersonal.id].sort());

    connector.reset();
    await post({ text: 'channels only', target: { conversationTypes: ['channel'] } });
    assert.deepEqual(receivedBy(), [people.t2Channel.id]);

    connector.reset();
    await post({ text: 'to Ada by AAD object id', target: { userIds: ['aad-ada'] } });
    assert.deepEqual(receivedBy(), [people.adaPersonal.id]);

    connector.reset();
    await post({ text: 'Bob has only a group chat', target: { userIds: ['aad-bob'] } });
    assert.deepEqual(receivedBy(), [], 'a user target never posts into a group chat');

    connector.reset();
    const nobody = await post({ text: 'no such tenant', target: { tenantIds: ['t9'], channelIds: ['msteams'] } });
    assert.equal(nobody.status, 200);
    assert.equal(summaryOf(nobody).matched, 0);
    assert.deepEqual(receivedBy(), []);
  });

  it('sends nothing new when the same id is posted again', async () => {
    const id = `release-${randomUUID()}`;
    const first = await post({ id, text: 'once' });
    const second = await post({ id, text: 'once' });

    assert.equal(first.status, 200);
    assert.equal(summaryOf(first).id, id);
    assert.equal(summaryOf(first).sent, 3);
    assert.equal(second.status, 200);
    assert.equal(summaryOf(second).sent, 0);
    assert.equal(summaryOf(second).alreadySent, 3);
    assert.equal(connector.received.length, 3);
    assert.deepEqual(connector.duplicates(), new Map());
  });

  it('answers 409 NotificationIdReused to a known id with a different message, sending nothing', async () => {
    const id = `reused-${randomUUID()}`;
    assert.equal((await post({ id, text: 'hello all' })).status, 200);
    connector.reset();

    const reused = await post({ id, text: 'x' });
    assert.equal(reused.status, 409);
    const body = reused.jsonBody as { error: string; id: string; message: string };
    assert.equal(body.error, 'NotificationIdReused');
    assert.equal(body.id, id);
    assert.match(body.message, /different message or target/);
    assert.deepEqual(connector.received, []);

    const same = await post({ id, text: 'hello all' });
    assert.equal(same.status, 200);
    assert.equal(summaryOf(same).alreadySent, 3);
  });

  it('a retried id sends only to the recipients that failed the first time', async () => {
    const id = `retry-${randomUUID()}`;
    faults.set(people.t2Channel.id, { status: 403, code: 'MessageWritesBlocked' });
    const first = await post({ id, text: 'eventually' });
    assert.equal(first.status, 200, 'a run with failed recipients still completed');
    assert.equal(summaryOf(first).sent, 2);
    assert.equal(summaryOf(first).failed, 1);
    assert.deepEqual(
      summaryOf(first).failures.map(({ conversationId, status, code }) => ({ conversationId, status, code })),
      [{ conversationId: people.t2Channel.id, status: 403, code: 'MessageWritesBlocked' }],
    );

    faults.clear();
    connector.reset();
    const second = await post({ id, text: 'eventually' });
    assert.equal(summaryOf(second).sent, 1);
    assert.equal(summaryOf(second).alreadySent, 2);
    assert.deepEqual(receivedBy(), [people.t2Channel.id]);
  });

  it('answers 409 to a request whose id is still being sent, and sends once', async () => {
    const id = `concurrent-${randomUUID()}`;
    const [first, second] = await Promise.all([post({ id, text: 'twice at once' }), post({ id, text: 'twice at once' })]);

    assert.deepEqual([first.status, second.status].sort(), [200, 409]);
    const refused = first.status === 409 ? first : second;
    assert.deepEqual(refused.jsonBody && (refused.jsonBody as { error: string }).error, 'NotificationInProgress');
    assert.equal(connector.received.length, 3);
  });

  it('answers 409 while another instance holds the id in the table, and sends once it has released it', async () => {
    await useApp({ ledgers: 'table' });
    const id = `other-instance-${randomUUID()}`;
    const sameRequest = requestFingerprint({ activity: messageActivity('from two instances') });
    const otherInstance = await new TableDeliveryLedgers(storageAt(azurite.connectionString)).claim(id, 60_000, sameRequest);
    assert.ok(otherInstance.claimed);

    const refused = await post({ id, text: 'from two instances' });
    assert.equal(refused.status, 409);
    assert.deepEqual(connector.received, []);

    await otherInstance.release();
    const accepted = await post({ id, text: 'from two instances' });
    assert.equal(accepted.status, 200);
    assert.equal(summaryOf(accepted).sent, 3);
  });

  it('answers 400 with every problem and sends nothing, losing no stored conversation', async () => {
    const before = await storedIds();
    const cases: [string | object, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[1,2]', /must be a JSON object/],
      [{}, /message is empty/],
      [{ text: '  ' }, /must not be blank/],
      [{ text: 'hi', card: 'nope' }, /"card" must be an Adaptive Card/],
      [{ text: 'hi', sendTo: 'all' }, /Unknown field "sendTo"/],
      [{ text: 'hi', target: { tenantIds: ['t1'], teams: ['x'] } }, /Unknown field "target.teams"/],
      [{ text: 'hi', target: { conversationTypes: ['private'] } }, /conversationTypes/],
      [{ text: 'hi', id: 'has spaces' }, /"id" must be/],
      [{ text: 'x'.repeat(41_000) }, /the limit is 81920/],
    ];
    for (const [body, expected] of cases) {
      const response = await post(body);
      assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
      const { errors } = response.jsonBody as { errors: string[] };
      assert.ok(errors.some((error) => expected.test(error)), `${JSON.stringify(errors)} should match ${expected}`);
    }
    assert.deepEqual(connector.received, []);
    assert.deepEqual(await storedIds(), before);
  });

  it('answers 502 with the summary when the channel refuses the bot credentials', async () => {
    for (const conversation of Object.values(people)) faults.set(conversation.id, { status: 401 });
    const response = await post({ text: 'who are you' });

    assert.equal(response.status, 502);
    const summary = summaryOf(response);
    assert.ok(summary.stoppedEarly !== undefined && /credentials/.test(summary.stoppedEarly), summary.stoppedEarly);
    assert.equal(summary.sent, 0);
    assert.equal(summary.matched, 3);
    assert.deepEqual(await storedIds(), Object.values(people).map((p) => p.id).sort(), 'no reference is deleted');
  });

  it('answers 504 when the deadline comes before everyone was tried, and a retry with the same id sends to the rest', async () => {
    const id = `deadline-${randomUUID()}`;
    const settings = loadSettings({ AzureWebJobsStorage: azurite.connectionString, NOTIFY_DEADLINE_SECONDS: '0.05', NOTIFY_CONCURRENCY: '1' });
    const slowSends: string[] = [];
    services = createServices(settings, {
      store: services.store,
      ledgers: services.ledgers,
      logger: recordingLogger(),
      send: async (conversation) => {
        await delay(150);
        slowSends.push(conversation.conversationId);
      },
    });
    setServices(services);

    const cut = await post({ id, text: 'slowly' });
    assert.equal(cut.status, 504);
    assert.equal(summaryOf(cut).sent, 1);
    assert.equal(summaryOf(cut).notAttempted, 2);
    assert.equal(summaryOf(cut).stoppedEarly, undefined);

    const { store, ledgers } = services;
    services = createServices(loadSettings({ AzureWebJobsStorage: azurite.connectionString }), { store, ledgers, logger: recordingLogger() });
    setServices(services);
    const retry = await post({ id, text: 'slowly' });
    assert.equal(retry.status, 200);
    assert.equal(summaryOf(retry).alreadySent, 1);
    assert.equal(summaryOf(retry).sent, 2);
    assert.deepEqual([...slowSends, ...receivedBy()].sort(), Object.values(people).map((p) => p.id).sort(), 'everyone got it exactly once');
  });

  it('answers 503 with a JSON error when the conversation table cannot be reached', async () => {
    const deadEnd = tableConnectionString(await freePort());
    await useApp({ store: new TableConversationStore(storageAt(deadEnd), 'conversations', undefined, { maxRetries: 0 }) });
    const response = await post({ text: 'anyone?' });

    assert.equal(response.status, 503);
    assert.equal((response.jsonBody as { error: string }).error, 'StorageUnavailable');
    assert.deepEqual(connector.received, []);
  });
});

describe('notify function: GET', () => {
  beforeEach(async () => {
    faults = new Map();
    connector.reset();
    await useApp({ settings: { NOTIFY_DEFAULT_MESSAGE: 'hello <everyone>' } });
  });

  it('sends the default message to everyone and answers with a page that shows the counts', async () => {
    faults.set(people.t2Channel.id, { status: 403, code: 'MessageWritesBlocked' });
    const response = await get();

    assert.equal(response.status, 200);
    assert.match(String((response.headers as Record<string, string>)['Content-Type']), /^text\/html/);
    const html = String(response.body);
    assert.match(html, /<th>Conversations matched<\/th><td>3<\/td>/);
    assert.match(html, /<th>Sent<\/th><td>2<\/td>/);
    assert.match(html, /<th>Failed<\/th><td>1<\/td>/);
    assert.ok(html.includes('hello &#60;everyone&#62;'), 'the message is shown, escaped');
    assert.ok(html.includes(people.t2Channel.id) && html.includes('MessageWritesBlocked'), 'the failure is listed');
    assert.deepEqual(connector.received.map((activity) => activity.text), ['hello <everyone>', 'hello <everyone>']);
  });
});

describe('notifyTimer function', () => {
  beforeEach(() => {
    faults = new Map();
    connector.reset();
  });

  const tick: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

  it('queues the timer message for the target as a queued notification, which delivers it', async () => {
    await useApp({
      settings: {
        NOTIFY_SCHEDULE: scheduleDueMinutesAgo(1),
        NOTIFY_SCHEDULE_TIME_ZONE: 'UTC',
        NOTIFY_TIMER_MESSAGE: 'Standup in 5 minutes',
        NOTIFY_TIMER_TARGET: '{"tenantIds":["t1"]}',
      },
    });
    const invocation = context('notifyTimer');
    await notifyTimer(tick, invocation);
    const queuedLine = invocation.lines.find((line) => /queued notification notifyTimer-/.test(line));
    assert.ok(queuedLine !== undefined, invocation.lines.join('\n'));
    const id = /notification (notifyTimer-\S+);/.exec(queuedLine)?.[1] ?? '';

    const pump = startQueueWorkers(azurite.connectionString, services.queued);
    try {
      const deadline = Date.now() + 30_000;
      while ((await services.queued.status(id))?.state !== 'completed' && Date.now() < deadline) await delay(100);
    } finally {
      await pump.stop();
    }
    assert.equal((await services.queued.status(id))?.state, 'completed');
    assert.deepEqual(receivedBy(), [people.t1Group.id, people.adaPersonal.id].sort());
    assert.ok(connector.received.every((activity) => activity.text === 'Standup in 5 minutes'));
  });

  it('a second run for the same occurrence queues nothing more', async () => {
    await useApp({ settings: { NOTIFY_SCHEDULE: scheduleDueMinutesAgo(2), NOTIFY_SCHEDULE_TIME_ZONE: 'UTC', NOTIFY_TIMER_MESSAGE: 'Once per occurrence' } });
    const first = context('notifyTimer');
    const second = context('notifyTimer');
    await notifyTimer(tick, first);
    await notifyTimer({ ...tick, isPastDue: true }, second);

    assert.ok(first.lines.some((line) => /queued notification notifyTimer-/.test(line)), first.lines.join('\n'));
    assert.ok(second.lines.some((line) => /already queued for this occurrence/.test(line)), second.lines.join('\n'));
  });

  it('queues nothing when no occurrence falls in the last 10 minutes, and a late run says an older one is not sent', async () => {
    const now = Date.now();
    await useApp({ settings: { NOTIFY_SCHEDULE: scheduleDueMinutesAgo(11, now), NOTIFY_SCHEDULE_TIME_ZONE: 'UTC', NOTIFY_TIMER_MESSAGE: 'Too late' } });
    const onTime = context('notifyTimer');
    const late = context('notifyTimer');
    await notifyTimer(tick, onTime);
    await notifyTimer({ ...tick, isPastDue: true }, late);

    const missed = new Date(Math.floor((now - 11 * 60_000) / 60_000) * 60_000);
    assert.equal(await services.queued.status(`notifyTimer-${missed.toISOString()}`), undefined, 'the missed occurrence was not queued');
    assert.deepEqual(onTime.lines.filter((line) => /queued/.test(line)), []);
    assert.ok(late.lines.some((line) => /late.*no occurrence of NOTIFY_SCHEDULE falls in the last 10 minutes/.test(line)), late.lines.join('\n'));
  });

  it('does nothing without a schedule, and says why once rather than on every tick', async () => {
    await useApp({ settings: { NOTIFY_TIMER_MESSAGE: 'never' } });
    const first = context('notifyTimer');
    const second = context('notifyTimer');
    await notifyTimer(tick, first);
    await notifyTimer(tick, second);

    assert.deepEqual(connector.received, []);
    const why = [...first.lines, ...second.lines].filter((line) => line.includes('NOTIFY_SCHEDULE'));
    assert.equal(why.length, 1, why.join("\n"));
  });

  it('fails the invocation, sending nothing, when NOTIFY_TIMER_TARGET is invalid', async () => {
    await useApp({
      settings: { NOTIFY_SCHEDULE: scheduleDueMinutesAgo(1), NOTIFY_SCHEDULE_TIME_ZONE: 'UTC', NOTIFY_TIMER_MESSAGE: 'hi', NOTIFY_TIMER_TARGET: '{"tenantIds":"t1"}' },
    });
    await assert.rejects(notifyTimer(tick, context('notifyTimer')), /NOTIFY_TIMER_TARGET/);
    assert.deepEqual(connector.received, []);
  });
});
