import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { seedConversations } from '../support/seedConversations';
import { post, status, store, teamsLimits, useQueuedHosts, waitFor, waitUntil, type Status } from '../support/queuedHosts';

/**
 * Queued notifications end to end: the app in the local host of `npm start`
 * (queue triggers included), a real Azurite with tables and queues, real
 * HTTP, the fake Bot Connector throttling like Teams. Completion, cancel and
 * the poison queue here; a crashed host and two hosts sharing the work in
 * queuedNotificationsProcesses.test.ts.
 */

const { storage, connector, app } = useQueuedHosts();

describe('queued notifications through the local host', () => {
  test('POST /api/notifications to 2,000 references over 10 tenants answers 202 at once, then completes with each recipient delivered exactly once', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    const ids = await seedConversations(store(testStorage), channel.serviceUrl, { count: 2_000, tenants: 10 });
    const host = await app(testStorage);

    const { response, ms } = await post(host, { id: 'e2e-2000', text: 'Quarterly results are out' });
    t.diagnostic(`POST /api/notifications for 2,000 recipients answered ${response.status} in ${Math.round(ms)} ms`);
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('location'), '/api/notifications/e2e-2000');
    assert.deepEqual(await response.json(), { id: 'e2e-2000', state: 'queued', statusUrl: '/api/notifications/e2e-2000' });

    const startedAt = performance.now();
    const final = await waitFor(() => host, 'e2e-2000', ['completed', 'failed', 'cancelled']);
    t.diagnostic(`completed ${Math.round(performance.now() - startedAt)} ms after the 202; ${channel.throttled} 429(s) from the fake connector`);

    assert.deepEqual(
      { state: final.state, matched: final.matched, sent: final.sent, failed: final.failed, pending: final.pending },
      { state: 'completed', matched: 2_000, sent: 2_000, failed: 0, pending: 0 },
    );
    assert.equal(channel.received.length, 2_000);
    assert.equal(channel.duplicates().size, 0, 'nobody got it twice');
    assert.deepEqual(new Set(channel.received.map((activity) => activity.conversationId)), new Set(ids));
  });

  test('DELETE /api/notifications/{id} stops the sends within seconds, and the status says cancelled with final counts', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    await seedConversations(store(testStorage), channel.serviceUrl, { count: 600, tenants: 1 });
    const host = await app(testStorage);
    assert.equal((await post(host, { id: 'e2e-cancel', text: 'will be cancelled' })).response.status, 202);
    await waitUntil(() => channel.received.length >= 50, '50 deliveries');

    const cancelledAt = Date.now();
    const answer = await fetch(`${host.baseUrl}/api/notifications/e2e-cancel`, { method: 'DELETE' });
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as Status).state, 'cancelled');
    // Quiet for 3 s in a row: the workers have stopped.
    let count = channel.received.length;
    for (let quietSince = Date.now(); Date.now() - quietSince < 3_000; await delay(100)) {
      if (channel.received.length !== count) [count, quietSince] = [channel.received.length, Date.now()];
    }
    const lastArrival = Math.max(...channel.received.map((activity) => activity.receivedAt));
    t.diagnostic(`the last send arrived ${lastArrival - cancelledAt} ms after the DELETE (${count} of 600 delivered)`);

    assert.ok(count < 600, 'the cancel came before the end');
    const final = await status(host, 'e2e-cancel');
    assert.equal(final.state, 'cancelled');
    assert.equal(final.sent, count, 'every delivery that happened is counted');
    assert.equal(final.pending, 600 - count - final.failed);
  });

  test('a delivery work item that always fails ends in the poison queue, and the notification ends failed saying which tenant', async () => {
    const testStorage = await storage();
    // The channel refuses the bot's credentials on every send: each run of the work item throws.
    const refusing = await connector({ requireAuthorization: 'Bearer a-token-this-bot-never-has' });
    await seedConversations(store(testStorage), refusing.serviceUrl, { count: 5, tenants: 1, firstTenant: 7 });
    const host = await app(testStorage);
    assert.equal((await post(host, { id: 'e2e-poison', text: 'never arrives' })).response.status, 202);

    const final = await waitFor(() => host, 'e2e-poison', ['completed', 'failed', 'cancelled']);

    assert.equal(final.state, 'failed');
    assert.deepEqual(final.failedWork.map((work) => work.tenantId), ['tenant-7']);
    assert.equal(final.failedWork[0]?.attempts, 3, 'every attempt up to maxDequeueCount was made');
    assert.match(final.failedWork[0]?.error ?? '', /credentials|401/i);
    assert.match(final.error ?? '', /tenant-7/);
    assert.equal(final.pending, 5, 'nobody was reached');
    await host.waitForOutput(/notifications-deliver-poison/);
  });

});
