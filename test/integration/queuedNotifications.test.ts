import type { StoredConversation } from '../../shared/storage/conversationStore';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TableDeliveryLedgers } from '../../shared/ledgers/tableDeliveryLedgers';
import { ledgerNameOf, type QueuedTuning } from '../../shared/queued/workContext';
import type { Services } from '../../shared/services';
import { useQueuedTestBed, waitForState } from '../support/queuedTestBed';
import { seedConversations } from '../support/seedConversations';

/**
 * Queued notifications on a real Azurite (tables and queues) and the real
 * CloudAdapter against the fake Bot Connector; the queue triggers are played
 * by a pump in this process (the e2e tests run them in the local host).
 */

const bed = useQueuedTestBed('queued');
const { fakeConnector, pump } = bed;
const services = (settings: Record<string, string> = {}, tuning: Partial<QueuedTuning> = {}): Services => bed.services({ settings, tuning });

const message = { type: 'message', text: 'Maintenance tonight' };

describe('queued notifications on Azurite queues', () => {
  test('a notification to 300 conversations over 3 tenants completes, each conversation receiving it exactly once', async () => {
    const connector = await fakeConnector();
    const app = services();
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 300, tenants: 3 });

    const accepted = await app.queued.submit({ id: 'queued-300', activity: message });
    assert.deepEqual(accepted, { kind: 'accepted', id: 'queued-300', state: 'queued', existing: false });
    assert.equal((await app.queued.status('queued-300'))?.state, 'queued', 'nothing runs before a worker takes the message');

    pump(app);
    const status = await waitForState(app.queued, 'queued-300', ['completed', 'failed', 'cancelled']);

    assert.equal(status.state, 'completed');
    assert.deepEqual(
      { matched: status.matched, sent: status.sent, failed: status.failed, alreadySent: status.alreadySent, pending: status.pending },
      { matched: 300, sent: 300, failed: 0, alreadySent: 0, pending: 0 },
    );
    assert.ok(status.startedAt !== null && status.completedAt !== null);
    assert.equal(connector.received.length, 300);
    assert.equal(connector.duplicates().size, 0);
    assert.deepEqual(new Set(connector.received.map((activity) => activity.conversationId)), new Set(ids));
    assert.ok(connector.received.every((activity) => activity.text === 'Maintenance tonight'));
  });

  test('the same id and body is accepted again as the same notification; the same id with another body is refused', async () => {
    const app = services();
    const first = await app.queued.submit({ id: 'queued-twice', activity: message });
    const again = await app.queued.submit({ id: 'queued-twice', activity: message });
    const other = await app.queued.submit({ id: 'queued-twice', activity: { type: 'message', text: 'something else' } });

    assert.equal(first.kind, 'accepted');
    assert.deepEqual(again, { kind: 'accepted', id: 'queued-twice', state: 'queued', existing: true });
    assert.deepEqual(other, { kind: 'idReused', id: 'queued-twice' });
    const listed = await app.queued.list(100);
    assert.equal(listed.notifications.filter((item) => item.id === 'queued-twice').length, 1);
  });

  test('a notification that matches nobody completes with matched 0', async () => {
    const app = services();
    await app.queued.submit({ id: 'queued-nobody', activity: message, filter: { tenantIds: ['no-such-tenant'] } });
    pump(app);
    const status = await waitForState(app.queued, 'queued-nobody', ['completed', 'failed']);
    assert.deepEqual({ state: status.state, matched: status.matched, pending: status.pending }, { state: 'completed', matched: 0, pending: 0 });
  });

  test('a batch started before a crash is redone: recipients the ledger holds are skipped and counted as already sent, the others are sent', async () => {
    const connector = await fakeConnector();
    const app = services();
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 30, tenants: 1 });
    await app.queued.submit({ id: 'queued-redo', activity: message });
    // Plan by hand (no pump): the tenant's work item waits in the queue, unstarted.
    assert.equal(await app.queued.plan({ id: 'queued-redo' }), 'planned');
    // What a crashed worker leaves behind: the batch marked started, 12 deliveries recorded.
    const { notifications } = app.queued.deps;
    const work = await notifications.getWork('queued-redo', 'tenant-0');
    assert.ok(work !== undefined);
    await notifications.updateWork('queued-redo', work, { started: work.cursor });
    const ledger = new TableDeliveryLedgers(app.settings.conversationsStorage).open(ledgerNameOf('queued-redo', 'tenant-0'));
    for (const id of ids.slice(0, 12)) await ledger.recordDelivered({ channelId: 'msteams', conversationId: id });

    assert.equal(await app.queued.deliver({ id: 'queued-redo', tenantId: 'tenant-0' }), 'done');

    const status = await app.queued.status('queued-redo');
    assert.deepEqual(
      { state: status?.state, sent: status?.sent, alreadySent: status?.alreadySent, pending: status?.pending },
      { state: 'completed', sent: 18, alreadySent: 12, pending: 0 },
    );
    assert.deepEqual(
      connector.received.map((activity) => activity.conversationId).sort(),
      ids.slice(12),
      'only the recipients the ledger did not hold were sent',
    );
  });

  test('a planner that dies between a step\'s writes and its checkpoint redoes that step: every recipient is listed once and matched once', async () => {
    const connector = await fakeConnector();
    const app = services();
    // Pages of 50, steps of 5 pages: 600 references are 3 steps; the process "dies" saving the second.
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 600, tenants: 3 });
    await app.queued.submit({ id: 'queued-plan-crash', activity: message });
    const { notifications, audience } = app.queued.deps;
    const savePlan = notifications.savePlan.bind(notifications);
    let saves = 0;
    notifications.savePlan = async (...args) => {
      saves += 1;
      if (saves === 2) throw new Error('the process died');
      return savePlan(...args);
    };
    await assert.rejects(app.queued.plan({ id: 'queued-plan-crash' }), /the process died/);
    notifications.savePlan = savePlan;

    assert.equal(await app.queued.plan({ id: 'queued-plan-crash' }), 'planned');

    assert.equal((await notifications.getPlan('queued-plan-crash'))?.matched, 600);
    const listed: string[] = [];
    for (const tenantId of ['tenant-0', 'tenant-1', 'tenant-2']) {
      const rows = await audience.read('queued-plan-crash', tenantId, '', 10_000);
      listed.push(...rows.map((row) => (row.recipient as StoredConversation).conversationId));
    }
    assert.deepEqual(listed.sort(), ids);
  });

  test('a slice that has run out of time continues only when recipients are left: a tenant whose last batch ends the slice is done', async () => {
    const connector = await fakeConnector();
    // Slices of 1 ms: each ends after its first batch (of 40).
    const app = services({}, { sliceMs: 1 });
    await seedConversations(app.store, connector.serviceUrl, { count: 40, tenants: 1 });
    await app.queued.submit({ id: 'queued-exact', activity: message });
    assert.equal(await app.queued.plan({ id: 'queued-exact' }), 'planned');
    assert.equal(await app.queued.deliver({ id: 'queued-exact', tenantId: 'tenant-0' }), 'done');
    assert.equal((await app.queued.status('queued-exact'))?.state, 'completed');

    // 300 recipients are several chunks, so several batches: slices continue until the last one.
    await seedConversations(app.store, connector.serviceUrl, { count: 300, tenants: 1, prefix: 'b:conv', firstTenant: 1 });
    await app.queued.submit({ id: 'queued-more', activity: message, filter: { tenantIds: ['tenant-1'] } });
    let planning = await app.queued.plan({ id: 'queued-more' });
    while (planning === 'continued') planning = await app.queued.plan({ id: 'queued-more' });
    assert.equal(planning, 'planned');
    const outcomes: string[] = [];
    do outcomes.push(await app.queued.deliver({ id: 'queued-more', tenantId: 'tenant-1' }));
    while (outcomes.at(-1) === 'continued' && outcomes.length < 20);
    assert.ok(outcomes.length > 1, `more than one slice: ${outcomes.join(', ')}`);
    assert.deepEqual(outcomes, [...outcomes.slice(0, -1).map(() => 'continued'), 'done']);
    assert.equal(connector.received.length, 340);
    assert.equal(connector.duplicates().size, 0);
  });

  test('two workers on one tenant at once: one sends under the lease, the other puts its work back on the queue', async () => {
    const connector = await fakeConnector({ latencyMs: 20 });
    const app = services();
    await seedConversations(app.store, connector.serviceUrl, { count: 40, tenants: 1 });
    await app.queued.submit({ id: 'queued-lease', activity: message });
    await app.queued.plan({ id: 'queued-lease' });

    const outcomes = await Promise.all([
      app.queued.deliver({ id: 'queued-lease', tenantId: 'tenant-0' }),
      app.queued.deliver({ id: 'queued-lease', tenantId: 'tenant-0' }),
    ]);

    assert.deepEqual(outcomes.sort(), ['done', 'waiting']);
    assert.equal(connector.received.length, 40);
    assert.equal(connector.duplicates().size, 0);
  });

  test('a cancel stops every worker within seconds, and the counts then stay as they are', async () => {
    const connector = await fakeConnector();
    const app = services({ NOTIFY_TENANT_RATE_PER_SECOND: '10' });
    await seedConversations(app.store, connector.serviceUrl, { count: 120, tenants: 2 });
    await app.queued.submit({ id: 'queued-cancel', activity: message });
    pump(app);
    const started = Date.now();
    while (connector.received.length < 10 && Date.now() - started < 30_000) await delay(50);

    const cancel = await app.queued.cancel('queued-cancel');
    assert.equal(cancel.kind, 'cancelled');
    const cancelledAt = Date.now();
    await delay(3_000);
    const receivedAfterStop = connector.received.length;
    const lastArrival = Math.max(...connector.received.map((activity) => activity.receivedAt));
    await delay(2_000);

    assert.ok(lastArrival - cancelledAt < 3_000, `a send arrived ${lastArrival - cancelledAt} ms after the cancel`);
    assert.equal(connector.received.length, receivedAfterStop, 'nothing is sent once the workers stopped');
    assert.ok(receivedAfterStop < 120, 'the cancel came before the end');
    const status = await app.queued.status('queued-cancel');
    assert.equal(status?.state, 'cancelled');
    assert.equal(status?.sent, receivedAfterStop, 'every delivery that happened is counted');
    assert.equal(status?.pending, 120 - receivedAfterStop - (status?.failed ?? 0));
    assert.equal((await app.queued.cancel('queued-cancel')).kind, 'cancelled', 'a second cancel changes nothing');
  });

  test('failed recipients are listed page by page with the channel\'s answer', async () => {
    const faults: Record<string, { status: number; code: string }> = {};
    for (let i = 0; i < 130; i++) faults[`a:gone-${String(i).padStart(5, '0')}`] = { status: 403, code: 'ConversationBlockedByUser' };
    const connector = await fakeConnector({ conversationFaults: faults });
    const app = services();
    await seedConversations(app.store, connector.serviceUrl, { count: 130, tenants: 2, prefix: 'a:gone' });
    await seedConversations(app.store, connector.serviceUrl, { count: 20, tenants: 2, prefix: 'a:fine' });
    await app.queued.submit({ id: 'queued-failures', activity: message });
    pump(app);
    const status = await waitForState(app.queued, 'queued-failures', ['completed', 'failed']);

    assert.deepEqual({ state: status.state, sent: status.sent, failed: status.failed, pruned: status.pruned }, { state: 'completed', sent: 20, failed: 130, pruned: 130 });
    assert.equal(status.failures.length, 100);
    assert.ok(status.nextFailuresAfter !== undefined);
    const second = await app.queued.status('queued-failures', status.nextFailuresAfter);
    assert.equal(second?.failures.length, 30);
    assert.equal(second?.nextFailuresAfter, undefined);
    const listed = new Set([...status.failures, ...(second?.failures ?? [])].map((failure) => failure.conversationId));
    assert.equal(listed.size, 130);
    assert.deepEqual(status.failures[0] && { status: status.failures[0].status, code: status.failures[0].code, pruned: status.failures[0].pruned }, {
      status: 403,
      code: 'ConversationBlockedByUser',
      pruned: true,
    });
  });

  test('work that went to the poison queue makes the notification fail and says which tenant', async () => {
    const connector = await fakeConnector();
    const app = services();
    await seedConversations(app.store, connector.serviceUrl, { count: 10, tenants: 2 });
    await app.queued.submit({ id: 'queued-poison', activity: message });
    await app.queued.plan({ id: 'queued-poison' });
    await app.queued.deliver({ id: 'queued-poison', tenantId: 'tenant-0' });
    await app.queued.noteFailedDelivery({ id: 'queued-poison', tenantId: 'tenant-1' }, 5, new Error('boom'));
    await app.queued.deliveryPoisoned({ id: 'queued-poison', tenantId: 'tenant-1' });

    const status = await app.queued.status('queued-poison');
    assert.equal(status?.state, 'failed');
    assert.deepEqual(status?.failedWork, [{ tenantId: 'tenant-1', error: 'boom', attempts: 5 }]);
    assert.deepEqual({ sent: status?.sent, pending: status?.pending }, { sent: 5, pending: 5 });
    assert.match(status?.error ?? '', /tenant-1/);
  });
});
