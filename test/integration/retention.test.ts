import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FakeConnector } from '../../scripts/fakeConnector';
import type { NotificationStatus } from '../../shared/queued/notificationStatus';
import type { QueuedNotifications } from '../../shared/queued/queuedNotifications';
import type { Services } from '../../shared/services';
import { countRows, noRows, notificationRows, type NotificationRows } from '../support/notificationRows';
import { useQueuedTestBed, waitForStatus } from '../support/queuedTestBed';
import { seedConversations } from '../support/seedConversations';

/**
 * Retention of queued notifications on a real Azurite: every row a finished notification wrote, in
 * every table, is gone after the runs; running ones and the conversation references are untouched.
 */

const bed = useQueuedTestBed('retention');
const { connectionString, pump } = bed;
const services = (): Services => bed.services();
const connector = (latencyMs = 2): Promise<FakeConnector> => bed.fakeConnector({ latencyMs });
const waitFor = (queued: QueuedNotifications, id: string, done: (status: NotificationStatus) => boolean): Promise<NotificationStatus> => waitForStatus(queued, id, done);

const finished = (status: NotificationStatus): boolean => ['completed', 'cancelled', 'failed'].includes(status.state);

const count = (table: string, filter: string): Promise<number> => countRows(connectionString(), table, filter);
const rowsOf = (id: string): Promise<NotificationRows> => notificationRows(connectionString(), id);
const none = noRows;

const message = { type: 'message', text: 'Old news' };

describe('retention of queued notifications on Azurite', () => {
  test('with 0 days, a completed notification loses every row in every table, a running one keeps all of its rows, and no reference is touched', async () => {
    const fast = await connector();
    const slow = await connector(3_000);
    const app = services();
    await seedConversations(app.store, fast.serviceUrl, { count: 200, tenants: 3, prefix: 'a:fast' });
    await seedConversations(app.store, slow.serviceUrl, { count: 20, tenants: 1, prefix: 'a:slow', firstTenant: 9 });
    const references = await count(app.settings.conversationsTable, '');
    pump(app);

    await app.queued.submit({ id: 'ret-done', activity: message, filter: { tenantIds: ['tenant-0', 'tenant-1', 'tenant-2'] } });
    const done = await waitFor(app.queued, 'ret-done', finished);
    assert.equal(done.state, 'completed');
    await app.queued.submit({ id: 'ret-running', activity: message, filter: { tenantIds: ['tenant-9'] } });
    await waitFor(app.queued, 'ret-running', (status) => status.state === 'running' && status.matched === 20);

    const before = { done: await rowsOf('ret-done'), running: await rowsOf('ret-running') };
    assert.ok(before.done.audience >= 3 && before.done.ledger >= 3 && before.done.notifications >= 5, JSON.stringify(before.done));
    // 200 personal chats that sent no read receipt: each holds the delivery as unread, and the notification lists each chat.
    assert.equal(before.done.readReceipts, 400, JSON.stringify(before.done));

    const report = await app.queued.removeExpired({ retentionDays: 0 });

    assert.deepEqual(report.removed, ['ret-done']);
    assert.equal(report.more, false);
    assert.deepEqual(await rowsOf('ret-done'), none);
    // Its sends are still in flight (3 s each), so its ledger and counts may grow meanwhile; nothing of it is deleted.
    const running = await rowsOf('ret-running');
    assert.deepEqual([running.index, running.audience], [1, before.running.audience], 'the running notification is untouched');
    assert.ok(running.notifications >= before.running.notifications && running.ledger >= before.running.ledger);
    assert.equal((await app.queued.status('ret-running'))?.matched, 20);
    assert.equal(await count(app.settings.conversationsTable, ''), references, 'every conversation reference is still there');
    assert.equal(await app.queued.status('ret-done'), undefined);
  });

  test('a notification within the retention is kept; past it, it is removed', async () => {
    const fast = await connector();
    const app = services();
    await seedConversations(app.store, fast.serviceUrl, { count: 30, tenants: 2, prefix: 'a:kept', firstTenant: 20 });
    pump(app);
    await app.queued.submit({ id: 'ret-kept', activity: message, filter: { tenantIds: ['tenant-20', 'tenant-21'] } });
    await waitFor(app.queued, 'ret-kept', finished);

    const kept = await app.queued.removeExpired({ retentionDays: 90 });
    assert.equal(kept.removed.includes('ret-kept'), false);
    assert.notDeepEqual(await rowsOf('ret-kept'), none);

    const later = Date.now() + 91 * 24 * 3_600_000;
    const removed = await app.queued.removeExpired({ retentionDays: 90, now: () => later });
    assert.ok(removed.removed.includes('ret-kept'));
    assert.deepEqual(await rowsOf('ret-kept'), none);
  });

  test('a cancelled notification is left alone while its workers may still be finishing, then removed', async () => {
    const slow = await connector(500);
    const app = services();
    await seedConversations(app.store, slow.serviceUrl, { count: 100, tenants: 1, prefix: 'a:cancel', firstTenant: 30 });
    pump(app);
    await app.queued.submit({ id: 'ret-cancel', activity: message, filter: { tenantIds: ['tenant-30'] } });
    await waitFor(app.queued, 'ret-cancel', (status) => status.sent > 0);
    assert.equal((await app.queued.cancel('ret-cancel')).kind, 'cancelled');

    assert.equal((await app.queued.removeExpired({ retentionDays: 0 })).removed.includes('ret-cancel'), false);
    assert.notDeepEqual(await rowsOf('ret-cancel'), none);

    // The 11 minutes pretended below would let the cut batch's worker finish: it is really waited for.
    for (const deadline = Date.now() + 60_000; (await app.queued.deps.notifications.getWork('ret-cancel', 'tenant-30'))?.state === 'active'; ) {
      assert.ok(Date.now() < deadline, 'the cancelled work ends within a minute');
      await delay(100);
    }
    const settled = Date.now() + 11 * 60_000;
    assert.ok((await app.queued.removeExpired({ retentionDays: 0, now: () => settled })).removed.includes('ret-cancel'));
    assert.deepEqual(await rowsOf('ret-cancel'), none);
  });

  test('a run deletes at most its row budget, and the next runs go on where it stopped until every row is gone', async () => {
    const fast = await connector();
    const app = services();
    await seedConversations(app.store, fast.serviceUrl, { count: 120, tenants: 3, prefix: 'a:budget', firstTenant: 40 });
    pump(app);
    await app.queued.submit({ id: 'ret-budget', activity: message, filter: { tenantIds: ['tenant-40', 'tenant-41', 'tenant-42'] } });
    await waitFor(app.queued, 'ret-budget', finished);
    const before = Object.values(await rowsOf('ret-budget')).reduce((sum, rows) => sum + rows, 0);

    const runs: number[] = [];
    for (let run = 0; run < 100; run++) {
      const report = await app.queued.removeExpired({ retentionDays: 0, maxRowsPerRun: 7 });
      assert.ok(report.rowsDeleted <= 7, `run ${run} deleted ${report.rowsDeleted}`);
      runs.push(report.rowsDeleted);
      if (report.removed.includes('ret-budget')) break;
      assert.ok(report.more, 'a run that stops early says more is left');
      // Mid-way the notification is still found by the next run.
      assert.equal((await rowsOf('ret-budget')).index, 1);
    }

    assert.deepEqual(await rowsOf('ret-budget'), none);
    assert.ok(runs.length > 2, `took ${runs.length} runs`);
    assert.equal(runs.reduce((sum, rows) => sum + rows, 0), before, 'every row was deleted once');
  });
});
