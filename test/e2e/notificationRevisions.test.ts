import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { FakeConnector } from '../../scripts/fakeConnector';
import type { AppProcess } from '../support/appProcess';
import { seedConversations } from '../support/seedConversations';
import { post, store, teamsLimits, useQueuedHosts, waitFor, waitUntil } from '../support/queuedHosts';

/**
 * Edit and recall end to end: the app in the local host (queue triggers included), a real Azurite,
 * real HTTP, and the fake Bot Connector, which keeps each conversation's messages and throttles
 * like Teams.
 */

const { storage, connector, app } = useQueuedHosts();

interface PassProgress {
  readonly state: string;
  readonly failed: number;
  readonly pending: number;
}

interface RevisedStatus {
  readonly state: string;
  readonly revision: number;
  readonly revisions: ReadonlyArray<PassProgress & { readonly revision: number; readonly updated: number }>;
  readonly recall?: PassProgress & { readonly removed: number };
}

async function call(target: AppProcess, method: string, path: string, body?: unknown): Promise<{ status: number; json: RevisedStatus }> {
  const response = await fetch(`${target.baseUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as RevisedStatus };
}

async function waitForStatus(target: () => AppProcess, id: string, done: (status: RevisedStatus) => boolean, timeoutMs = 120_000): Promise<RevisedStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await call(target(), 'GET', `/api/notifications/${id}`);
    if (done(json)) return json;
    if (Date.now() > deadline) throw new Error(`${id} did not get there: ${JSON.stringify(json)}\n${target().output().slice(-3_000)}`);
    await delay(200);
  }
}

/** The chats that do not show exactly one message with this text. */
function chatsNotShowing(channel: FakeConnector, ids: readonly string[], text: string): string[] {
  return ids.filter((id) => {
    const messages = channel.messages(id);
    return messages.length !== 1 || messages[0]?.text !== text;
  });
}

describe('editing and recalling a notification through the local host', () => {
  test('sent to 1,000 people in 4 tenants, then edited: every chat shows the new text, updated once; then recalled: no message is left', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    const ids = await seedConversations(store(testStorage), channel.serviceUrl, { count: 1_000, tenants: 4 });
    const host = await app(testStorage);

    assert.equal((await post(host, { id: 'e2e-revise', text: 'The office is closed on Friday' })).response.status, 202);
    await waitFor(() => host, 'e2e-revise', ['completed', 'failed', 'cancelled']);
    assert.deepEqual(chatsNotShowing(channel, ids, 'The office is closed on Friday'), []);

    const editedAt = performance.now();
    const edit = await call(host, 'PATCH', '/api/notifications/e2e-revise', { text: 'The office is closed on Friday and Monday' });
    assert.equal(edit.status, 202);
    assert.equal(edit.json.revision, 2);
    const edited = await waitForStatus(() => host, 'e2e-revise', (status) => status.revisions[0]?.state === 'done');
    t.diagnostic(`edit of 1,000 chats over 4 tenants done ${Math.round(performance.now() - editedAt)} ms after the PATCH; ${channel.throttled} 429(s) in all`);
    assert.deepEqual(chatsNotShowing(channel, ids, 'The office is closed on Friday and Monday'), []);
    assert.deepEqual(ids.filter((id) => channel.updatesOf(id) !== 1), [], 'each chat updated exactly once');
    assert.deepEqual(edited.revisions, [{ revision: 2, state: 'done', updated: 1_000, failed: 0, pending: 0 }]);

    const recall = await call(host, 'POST', '/api/notifications/e2e-revise/recall');
    assert.equal(recall.status, 202);
    assert.equal(recall.json.state, 'recalled');
    const recalled = await waitForStatus(() => host, 'e2e-revise', (status) => status.recall?.state === 'done');
    assert.equal(channel.messageCount(), 0, 'no message left in any chat');
    assert.deepEqual(recalled.recall, { state: 'done', removed: 1_000, failed: 0, pending: 0 });
    assert.equal(channel.activityChanges.deleted, 1_000);
    assert.equal((await call(host, 'PATCH', '/api/notifications/e2e-revise', { text: 'too late' })).status, 409);
  });

  test('SIGKILL of the host during an edit: restarted, every chat shows the new text, and only updates in flight at the kill were repeated', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector();
    const ids = await seedConversations(store(testStorage), channel.serviceUrl, { count: 1_500, tenants: 1 });
    // A higher rate than Teams' so the test stays short; the fake connector does not throttle here.
    const settings = { NOTIFY_TENANT_RATE_PER_SECOND: '150', NOTIFY_CONVERSATION_RATE_PER_SECOND: '150' };
    let host = await app(testStorage, settings);
    assert.equal((await post(host, { id: 'e2e-edit-crash', text: 'Version one' })).response.status, 202);
    await waitFor(() => host, 'e2e-edit-crash', ['completed', 'failed', 'cancelled']);

    assert.equal((await call(host, 'PATCH', '/api/notifications/e2e-edit-crash', { text: 'Version two' })).status, 202);
    await waitUntil(() => channel.activityChanges.updated >= 400, '400 updates');
    await host.kill();
    const atKill = channel.activityChanges.updated;
    host = await app(testStorage, settings);
    const final = await waitForStatus(() => host, 'e2e-edit-crash', (status) => status.revisions[0]?.state === 'done');

    const repeated = ids.reduce((sum, id) => sum + Math.max(0, channel.updatesOf(id) - 1), 0);
    t.diagnostic(`killed after ${atKill} updates; ${repeated} chat(s) updated twice; PUTs ${channel.activityChanges.updated} for ${ids.length} chats`);
    assert.deepEqual(chatsNotShowing(channel, ids, 'Version two'), []);
    assert.deepEqual(ids.filter((id) => channel.updatesOf(id) === 0), [], 'every chat was updated');
    assert.equal(channel.activityChanges.updated, ids.length + repeated);
    assert.ok(repeated <= 64, `repeats only from updates in flight at the kill (at most NOTIFY_CONCURRENCY), got ${repeated}`);
    assert.equal(final.revisions[0]?.failed, 0);
  });
});
