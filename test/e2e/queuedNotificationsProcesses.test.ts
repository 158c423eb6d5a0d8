import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { AppProcess } from '../support/appProcess';
import { seedConversations } from '../support/seedConversations';
import { post, store, teamsLimits, tenants, useQueuedHosts, waitFor, waitUntil } from '../support/queuedHosts';

/**
 * Queued notifications across local host processes on one Azurite: a host
 * killed mid-run and restarted, and two hosts sharing the work of many
 * tenants under the tenant leases. (Completion, cancel and the poison queue
 * are in queuedNotifications.test.ts.)
 */

// runTests: alone
// (the 429 count and the lease gaps are measured across two hosts: other files' load delays sends and bunches them)

const { storage, connector, app } = useQueuedHosts();

interface Holding {
  readonly process: number;
  readonly tenantId: string;
  readonly from: number;
  readonly to: number;
  readonly sent: number;
}

/** The tenant leases a process held for a notification, from its log. */
function holdings(target: AppProcess, process: number, id: string): Holding[] {
  const pattern = new RegExp(`Notification ${id}, tenant "([^"]+)": held the tenant's lease from (\\S+) to (\\S+) and sent (\\d+)`, 'g');
  return [...target.output().matchAll(pattern)].map((match) => ({
    process,
    tenantId: match[1] as string,
    from: Date.parse(match[2] as string),
    to: Date.parse(match[3] as string),
    sent: Number(match[4]),
  }));
}

/** Pairs of lease holdings of one tenant by two processes that overlap, or follow each other within the channel's one-second window. */
function overlaps(all: readonly Holding[]): string[] {
  const problems: string[] = [];
  for (const a of all) {
    for (const b of all) {
      if (a.process >= b.process || a.tenantId !== b.tenantId || a.sent === 0 || b.sent === 0) continue;
      const [first, second] = a.from <= b.from ? [a, b] : [b, a];
      if (second.from < first.to + 1_000) problems.push(`${a.tenantId}: process ${first.process} until ${first.to}, process ${second.process} from ${second.from}`);
    }
  }
  return problems;
}

describe('queued notifications across host processes', () => {
  test('SIGKILL of the host mid-run: restarted, it completes the notification and every recipient is delivered', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector();
    const ids = await seedConversations(store(testStorage), channel.serviceUrl, { count: 1_500, tenants: 1 });
    // A higher rate than Teams' so the test stays short; the fake connector does not throttle here.
    const settings = { NOTIFY_TENANT_RATE_PER_SECOND: '150', NOTIFY_CONVERSATION_RATE_PER_SECOND: '150' };
    let host = await app(testStorage, settings);
    assert.equal((await post(host, { id: 'e2e-crash', text: 'survives a crash' })).response.status, 202);
    await waitUntil(() => channel.received.length >= 400, '400 deliveries');

    await host.kill();
    const atKill = channel.received.length;
    host = await app(testStorage, settings);
    const final = await waitFor(() => host, 'e2e-crash', ['completed', 'failed', 'cancelled']);

    const duplicates = [...channel.duplicates().values()].reduce((sum, times) => sum + times - 1, 0);
    t.diagnostic(`killed after ${atKill} deliveries; ${duplicates} duplicate(s); status sent ${final.sent}, alreadySent ${final.alreadySent}`);
    assert.equal(final.state, 'completed');
    assert.deepEqual(new Set(channel.received.map((activity) => activity.conversationId)), new Set(ids), 'every recipient was delivered');
    assert.equal(final.sent + final.alreadySent, 1_500, 'each recipient is counted once');
    assert.ok(duplicates <= 64, `duplicates only from sends in flight at the kill (at most NOTIFY_CONCURRENCY), got ${duplicates}`);
  });

  test('two processes on one Azurite share the work of 10 tenants and never send to one tenant within the same second, so our 1-tenant and 10-tenant broadcasts stay within 50/s per tenant', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    await seedConversations(store(testStorage), channel.serviceUrl, { count: 400, tenants: 1, prefix: 'a:one', firstTenant: 20 });
    await seedConversations(store(testStorage), channel.serviceUrl, { count: 2_000, tenants: 10, prefix: 'a:ten', firstTenant: 30 });
    // At most 4 work items at once per process (batchSize 3 + newBatchThreshold 1), as an instance has its
    // limit in Azure: 11 tenants' work needs both processes, whichever polls first.
    const perProcess = { AzureFunctionsJobHost__extensions__queues__batchSize: '3', AzureFunctionsJobHost__extensions__queues__newBatchThreshold: '1' };
    const [first, second] = await Promise.all([app(testStorage, perProcess), app(testStorage, perProcess)]);
    assert.ok(first !== undefined && second !== undefined);

    const [one, ten] = await Promise.all([
      post(first, { id: 'e2e-one-tenant', text: 'one tenant', target: { tenantIds: tenants(20, 1) } }),
      post(second, { id: 'e2e-ten-tenants', text: 'ten tenants', target: { tenantIds: tenants(30, 10) } }),
    ]);
    assert.deepEqual([one.response.status, ten.response.status], [202, 202]);
    const finals = await Promise.all([
      waitFor(() => first, 'e2e-one-tenant', ['completed', 'failed', 'cancelled']),
      waitFor(() => second, 'e2e-ten-tenants', ['completed', 'failed', 'cancelled']),
    ]);

    const held = [...holdings(first, 1, 'e2e-ten-tenants'), ...holdings(second, 2, 'e2e-ten-tenants'), ...holdings(first, 1, 'e2e-one-tenant'), ...holdings(second, 2, 'e2e-one-tenant')];
    const tenantsSentBy = (process: number): string[] =>
      [...new Set(held.filter((holding) => holding.process === process && holding.sent > 0 && holding.tenantId !== 'tenant-20').map((holding) => holding.tenantId))].sort();
    t.diagnostic(`10-tenant sends: process 1 for ${tenantsSentBy(1).join(', ') || 'none'}; process 2 for ${tenantsSentBy(2).join(', ') || 'none'}`);
    const retriedTenants = new Set(channel.received.filter((activity) => activity.attempt > 1).map((activity) => activity.tenantId));
    t.diagnostic(`${channel.throttled} 429(s) (tenants ${[...retriedTenants].sort().join(', ') || 'none'}), ${channel.received.length} deliveries`);
    assert.deepEqual(finals.map((final) => [final.state, final.sent]), [['completed', 400], ['completed', 2_000]]);
    assert.deepEqual(overlaps(held), [], 'never two processes sending to one tenant within the same second');
    // The property the leases guarantee is the one above. A rare 429 can still come from one process alone, when this
    // loaded machine delays some sends and they arrive bunched (the in-process engine shows the same): reported, bounded.
    assert.ok(channel.throttled <= 0.005 * channel.received.length, `at most 0.5 % 429s (arrival jitter), got ${channel.throttled}`);
    assert.equal(channel.duplicates().size, 0);
    assert.ok(tenantsSentBy(1).length > 0 && tenantsSentBy(2).length > 0, 'both processes delivered for the 10 tenants');
  });
});
