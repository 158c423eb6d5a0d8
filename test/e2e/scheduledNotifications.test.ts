import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { seedConversations } from '../support/seedConversations';

/**
 * Scheduled sends end to end: POST /api/notifications with sendAt through the local host, the plan
 * message waiting invisible in Azurite's queue until its time, the fake connector recording when
 * each message arrived.
 */

interface Status {
  readonly state: string;
  readonly sendAt: string | null;
  readonly sent: number;
}

describe('scheduled notifications through the local host', () => {
  let storage: TestStorage;
  let connector: FakeConnector;
  let app: AppProcess;

  const post = (body: unknown): Promise<Response> =>
    fetch(`${app.baseUrl}/api/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = async (id: string): Promise<Status> => (await (await fetch(`${app.baseUrl}/api/notifications/${id}`)).json()) as Status;
  const arrivals = (text: string): number[] => connector.received.filter((activity) => activity.text === text).map((activity) => activity.receivedAt);

  before(async () => {
    [storage, connector] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector({ latencyMs: 2 })]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    await seedConversations(store, connector.serviceUrl, { count: 100, tenants: 2 });
    app = await startApp({
      settings: appSettings(storage.connectionString, { NOTIFY_TENANT_RATE_PER_SECOND: '200', NOTIFY_CONVERSATION_RATE_PER_SECOND: '200' }),
    });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  test('a send 30 s ahead is scheduled until then, then goes out within 60 s after its time, once to each recipient', async (t: TestContext) => {
    const sendAt = new Date(Date.now() + 30_000);
    const offset = sendAt.toISOString().replace('Z', '+00:00');
    const response = await post({ id: 'e2e-later', text: 'in thirty seconds', sendAt: offset });
    assert.equal(response.status, 202);
    assert.equal(((await response.json()) as Status).state, 'scheduled');
    assert.deepEqual([(await status('e2e-later')).state, (await status('e2e-later')).sendAt], ['scheduled', sendAt.toISOString()]);

    let final: Status | undefined;
    for (const deadline = sendAt.getTime() + 90_000; Date.now() < deadline; await delay(250)) {
      final = await status('e2e-later');
      if (final.state === 'completed') break;
    }
    const times = arrivals('in thirty seconds');
    t.diagnostic(`first delivery ${Math.min(...times) - sendAt.getTime()} ms after sendAt, last ${Math.max(...times) - sendAt.getTime()} ms after`);
    assert.equal(final?.state, 'completed');
    assert.equal(times.length, 100);
    assert.equal(connector.duplicates().size, 0, 'never twice');
    assert.ok(Math.min(...times) >= sendAt.getTime(), 'nothing before its time');
    assert.ok(Math.max(...times) <= sendAt.getTime() + 60_000, 'everything within 60 s after its time');
  });

  test('a scheduled send cancelled before its time sends nothing', async () => {
    const sendAt = new Date(Date.now() + 8_000);
    assert.equal((await post({ id: 'e2e-never', text: 'never sent', sendAt: sendAt.toISOString() })).status, 202);
    const cancelled = await fetch(`${app.baseUrl}/api/notifications/e2e-never`, { method: 'DELETE' });
    assert.equal(cancelled.status, 200);
    assert.equal(((await cancelled.json()) as Status).state, 'cancelled');

    // Past its time, and past the plan message showing up and being dropped.
    await delay(sendAt.getTime() - Date.now() + 8_000);
    await app.waitForOutput(/notificationsPlan: notification e2e-never: dropped/, 20_000);
    assert.deepEqual(arrivals('never sent'), []);
    assert.equal((await status('e2e-never')).state, 'cancelled');
  });
});
