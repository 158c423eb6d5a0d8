import { scheduleDueMinutesAgo } from '../support/dueSchedule';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { teamsChannel, teamsConversationUpdate, teamsInstallationUpdate, teamsPersonalChat } from '../support/activities';

/**
 * The app over real HTTP through the local host: conversations are captured
 * through /api/messages, then notified through /api/notify and the timer.
 */
describe('notifications through the local host', () => {
  let storage: TestStorage | undefined;
  let connector: FakeConnector | undefined;
  let app: AppProcess | undefined;

  const base = (): string => {
    if (app === undefined) throw new Error('the app did not start');
    return app.baseUrl;
  };
  const fake = (): FakeConnector => {
    if (connector === undefined) throw new Error('the fake connector did not start');
    return connector;
  };

  const postJson = (path: string, body: unknown): Promise<Response> =>
    fetch(`${base()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const textsReceived = (conversationId: string): (string | undefined)[] =>
    fake()
      .received.filter((activity) => activity.conversationId === conversationId)
      .map((activity) => activity.text);

  before(async () => {
    [storage, connector] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector()]);
    app = await startApp({
      settings: appSettings(storage.connectionString, {
        // An occurrence 2 minutes ago and the next a year away: a run by hand (or the every-minute trigger) sends it, once.
        NOTIFY_SCHEDULE: scheduleDueMinutesAgo(2),
        NOTIFY_SCHEDULE_TIME_ZONE: 'UTC',
        NOTIFY_TIMER_MESSAGE: 'from the timer',
        NOTIFY_TIMER_TARGET: JSON.stringify({ conversationTypes: ['channel'] }),
        'AzureWebJobs.notifyTimer.Disabled': 'false',
      }),
    });
    const serviceUrl = connector.serviceUrl;
    for (const activity of [
      teamsInstallationUpdate(serviceUrl, teamsPersonalChat, 'add'),
      teamsConversationUpdate(serviceUrl, teamsChannel, 'added'),
    ]) {
      const response = await postJson('/api/messages', activity);
      assert.equal(response.status, 200, await response.text());
    }
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  beforeEach(() => {
    fake().reset();
  });

  test('POST /api/notify delivers the text to every captured conversation and answers with the summary', async () => {
    const response = await postJson('/api/notify', { text: 'Release 2.0 is out' });
    const summary = (await response.json()) as { sent: number; matched: number; failed: number };

    assert.equal(response.status, 200, JSON.stringify(summary));
    assert.equal(summary.matched, 2);
    assert.equal(summary.sent, 2);
    assert.deepEqual(textsReceived(teamsPersonalChat.conversationId), ['Release 2.0 is out']);
    assert.deepEqual(textsReceived(teamsChannel.conversationId), ['Release 2.0 is out']);
  });

  test('POST /api/notify with an id twice delivers once', async () => {
    const body = { id: 'e2e-once', text: 'only once', target: { conversationTypes: ['personal'] } };
    const first = (await (await postJson('/api/notify', body)).json()) as { sent: number };
    const second = (await (await postJson('/api/notify', body)).json()) as { sent: number; alreadySent: number };

    assert.equal(first.sent, 1);
    assert.deepEqual({ sent: second.sent, alreadySent: second.alreadySent }, { sent: 0, alreadySent: 1 });
    assert.deepEqual(textsReceived(teamsPersonalChat.conversationId), ['only once']);
  });

  test('POST /api/notify with an invalid body answers 400 with the errors as JSON', async () => {
    const response = await postJson('/api/notify', { text: '', extra: 1 });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const { errors } = (await response.json()) as { errors: string[] };
    assert.ok(errors.length >= 2, JSON.stringify(errors));
    assert.equal(fake().received.length, 0);
  });

  test('GET /api/notify sends the default message and answers with an HTML page', async () => {
    const response = await fetch(`${base()}/api/notify`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await response.text(), /<th>Sent<\/th><td>2<\/td>/);
    assert.deepEqual(textsReceived(teamsChannel.conversationId), ['proactive hello']);
  });

  test('running notifyTimer by hand queues the timer message, which reaches the timer target', async () => {
    const response = await postJson('/admin/functions/notifyTimer', { input: '' });
    assert.equal(response.status, 202, await response.text());

    await app?.waitForOutput(/notifyTimer: queued notification notifyTimer-/);
    assert.match(app?.output() ?? '', /notifyTimer: timerTrigger \(0 \* \* \* \* \*, next /, 'the trigger is registered every minute');
    const deadline = Date.now() + 30_000;
    while (fake().received.length === 0 && Date.now() < deadline) await delay(50);
    assert.deepEqual(textsReceived(teamsChannel.conversationId), ['from the timer']);
    assert.deepEqual(textsReceived(teamsPersonalChat.conversationId), [], 'the personal chat is not in the timer target');
  });
});
