import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { countRows, noRows, notificationRows } from '../support/notificationRows';
import { seedConversations } from '../support/seedConversations';

/**
 * Retention end to end: the app in the local host with NOTIFICATIONS_RETENTION_DAYS=0, the
 * notificationsRetention timer run by hand, real Azurite.
 */
describe('retention through the local host', () => {
  let storage: TestStorage;
  let fast: FakeConnector;
  let slow: FakeConnector;
  let app: AppProcess;

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const waitFor = async (id: string, done: (status: { state: string; matched: number | null }) => boolean): Promise<void> => {
    for (const deadline = Date.now() + 60_000; ; await delay(200)) {
      const status = (await (await fetch(`${app.baseUrl}/api/notifications/${id}`)).json()) as { state: string; matched: number | null };
      if (done(status)) return;
      if (Date.now() > deadline) throw new Error(`${id}: ${JSON.stringify(status)}`);
    }
  };

  before(async () => {
    [storage, fast, slow] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector({ latencyMs: 2 }), startFakeConnector({ latencyMs: 20_000 })]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    await seedConversations(store, fast.serviceUrl, { count: 300, tenants: 3, prefix: 'a:fast' });
    await seedConversations(store, slow.serviceUrl, { count: 10, tenants: 1, prefix: 'a:slow', firstTenant: 9 });
    app = await startApp({
      settings: appSettings(storage.connectionString, {
        NOTIFICATIONS_RETENTION_DAYS: '0',
        LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
        NOTIFICATIONS_SLICE_SECONDS: '3',
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
        NOTIFY_TENANT_RATE_PER_SECOND: '300',
        NOTIFY_CONVERSATION_RATE_PER_SECOND: '300',
      }),
    });
  });

  after(async () => {
    await app?.stop();
    await Promise.all([fast?.stop(), slow?.stop()]);
    await storage?.dispose();
  });

  test('with 0 days, every row of a finished notification (the unread read-receipt rows of its personal chats too) is gone after the timer runs; a running one and every reference stay', async () => {
    assert.equal((await post('/api/notifications', { id: 'e2e-old', text: 'old news', target: { tenantIds: ['tenant-0', 'tenant-1', 'tenant-2'] } })).status, 202);
    await waitFor('e2e-old', (status) => status.state === 'completed');
    assert.equal((await post('/api/notifications', { id: 'e2e-running', text: 'in flight', target: { tenantIds: ['tenant-9'] } })).status, 202);
    await waitFor('e2e-running', (status) => status.state === 'running' && status.matched === 10);

    const old = await notificationRows(storage.connectionString, 'e2e-old');
    assert.ok(old.audience > 0 && old.ledger > 0 && old.notifications > 0 && old.index === 1, JSON.stringify(old));
    // 300 personal chats, none sent a read receipt: each holds the delivery in its unread index (and the notification lists the chat).
    assert.equal(await countRows(storage.connectionString, 'readreceipts', `notificationId eq 'e2e-old'`), 300);
    assert.equal(old.readReceipts, 600, JSON.stringify(old));
    const running = await notificationRows(storage.connectionString, 'e2e-running');
    const references = await countRows(storage.connectionString, 'conversations', '');
    assert.equal(references, 310);

    const run = await post('/admin/functions/notificationsRetention', { input: '' });
    assert.equal(run.status, 202, await run.text());
    await app.waitForOutput(/notificationsRetention: removed 1 notification\(s\)/, 30_000);

    assert.deepEqual(await notificationRows(storage.connectionString, 'e2e-old'), noRows);
    assert.equal((await fetch(`${app.baseUrl}/api/notifications/e2e-old`)).status, 404);
    assert.deepEqual(await notificationRows(storage.connectionString, 'e2e-running'), running, 'the running notification is untouched (its sends wait 20 s)');
    assert.equal(await countRows(storage.connectionString, 'conversations', ''), references, 'every conversation reference is still there');
  });
});
