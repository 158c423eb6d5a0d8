import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryOptOutStore } from '../../shared/engagement/memoryOptOutStore';
import type { NotificationStatusWithFailures } from '../../shared/queued/notificationStatus';
import type { NotificationRecord } from '../../shared/queued/notificationTable';
import { recipientCsv } from '../../shared/queued/recipientCsv';
import { RecipientCursorError, RecipientExport, type RecipientFilter, type RecipientRow } from '../../shared/queued/recipientExport';
import type { Services } from '../../shared/services';
import { useQueuedTestBed, waitForState } from '../support/queuedTestBed';
import { seedConversations } from '../support/seedConversations';

/**
 * The per-recipient export on a real Azurite: notifications sent through the real queues, adapter and
 * fake Bot Connector, then read back row by row (shared/queued/recipientExport.ts).
 */

const bed = useQueuedTestBed('export', 1);
const { fakeConnector } = bed;
const services = (optOuts?: MemoryOptOutStore): Services => bed.services(optOuts === undefined ? {} : { optOuts });

async function sendAndFinish(app: Services, id: string, filter?: { tenantIds: string[] }): Promise<NotificationStatusWithFailures> {
  await app.queued.submit({ id, activity: { type: 'message', text: 'Export me' }, ...(filter === undefined ? {} : { filter }) });
  bed.pump(app);
  return waitForState(app.queued, id, ['completed', 'failed', 'cancelled']);
}

async function notificationOf(exporter: RecipientExport, id: string): Promise<NotificationRecord> {
  const notification = await exporter.notification(id);
  assert.ok(notification !== undefined, `notification ${id} exists`);
  return notification;
}

/** Every page of the JSON export, followed to the end. */
async function allPages(exporter: RecipientExport, id: string, filter: RecipientFilter, limit: number): Promise<{ rows: RecipientRow[]; pages: number }> {
  const notification = await notificationOf(exporter, id);
  const rows: RecipientRow[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await exporter.page(notification, filter, limit, after);
    assert.ok(page.recipients.length <= limit);
    rows.push(...page.recipients);
    after = page.nextAfter;
    pages += 1;
  } while (after !== undefined);
  return { rows, pages };
}

async function streamed(exporter: RecipientExport, id: string, filter: RecipientFilter = {}): Promise<RecipientRow[]> {
  const rows: RecipientRow[] = [];
  for await (const row of exporter.rows(await notificationOf(exporter, id), filter)) rows.push(row);
  return rows;
}

const countBy = (rows: readonly RecipientRow[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.outcome] = (counts[row.outcome] ?? 0) + 1;
  return counts;
};

describe('the per-recipient export of a queued notification', () => {
  test('after a send with failures, gone conversations and opted-out people, each recipient has one row with the outcome it had, and the counts match the status', async () => {
    const failing = { 'a:conv-00003': { status: 400, code: 'BadArgument' }, 'a:conv-00011': { status: 400, code: 'BadArgument' } };
    const gone = { 'a:conv-00020': { status: 404, code: 'ConversationNotFound' } };
    const connector = await fakeConnector({ conversationFaults: { ...failing, ...gone } });
    const optOuts = new MemoryOptOutStore();
    const app = services(optOuts);
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 120, tenants: 3 });
    for (const id of ['a:conv-00005', 'a:conv-00007']) {
      const stored = await app.store.get({ channelId: 'msteams', conversationId: id });
      assert.ok(stored !== undefined);
      await optOuts.optOut(stored);
    }

    const status = await sendAndFinish(app, 'export-outcomes');
    assert.deepEqual(
      { state: status.state, matched: status.matched, sent: status.sent, failed: status.failed, pruned: status.pruned, optedOut: status.optedOut },
      { state: 'completed', matched: 120, sent: 115, failed: 3, pruned: 1, optedOut: 2 },
    );

    const exporter = new RecipientExport(app.queued.deps);
    const rows = await streamed(exporter, 'export-outcomes');
    assert.equal(rows.length, 120);
    assert.deepEqual(new Set(rows.map((row) => row.conversationId)), new Set(ids));
    assert.deepEqual(countBy(rows), { delivered: 115, failed: 2, pruned: 1, optedOut: 2 });
    const byConversation = new Map(rows.map((row) => [row.conversationId, row]));
    assert.equal(byConversation.get('a:conv-00003')?.outcome, 'failed');
    assert.match(byConversation.get('a:conv-00003')?.error ?? '', /^400 BadArgument: /);
    assert.equal(byConversation.get('a:conv-00020')?.outcome, 'pruned');
    assert.match(byConversation.get('a:conv-00020')?.error ?? '', /^404 ConversationNotFound: /);
    assert.equal(byConversation.get('a:conv-00005')?.outcome, 'optedOut');
    const delivered = byConversation.get('a:conv-00000');
    const sentIds = new Map(connector.received.map((activity) => [activity.conversationId, activity.id]));
    for (const row of rows) assert.equal(row.activityId, row.outcome === 'delivered' ? sentIds.get(row.conversationId) : null, row.conversationId);
    assert.deepEqual(delivered, {
      conversationId: 'a:conv-00000',
      userId: '29:user-a:conv-00000',
      tenantId: 'tenant-0',
      outcome: 'delivered',
      error: null,
      activityId: sentIds.get('a:conv-00000'),
      acknowledgedAt: null,
      readAt: null,
    });
  });

  test('JSON pages return each recipient exactly once, whatever the page size, and the filters keep only what they name', async () => {
    const connector = await fakeConnector({ conversationFaults: { 'a:conv-00004': { status: 400, code: 'BadArgument' } } });
    const app = services();
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 150, tenants: 4 });
    await sendAndFinish(app, 'export-pages');
    const exporter = new RecipientExport(app.queued.deps);

    for (const limit of [1, 7, 100, 1_000]) {
      const { rows, pages } = await allPages(exporter, 'export-pages', {}, limit);
      assert.equal(rows.length, 150, `page size ${limit}`);
      assert.deepEqual(rows.map((row) => row.conversationId).sort(), [...ids].sort(), `page size ${limit}`);
      assert.ok(pages >= Math.ceil(150 / limit), `page size ${limit}: ${pages} pages`);
    }

    const failed = await allPages(exporter, 'export-pages', { outcome: 'failed' }, 10);
    assert.deepEqual(failed.rows.map((row) => row.conversationId), ['a:conv-00004']);
    assert.equal((await allPages(exporter, 'export-pages', { outcome: 'delivered' }, 50)).rows.length, 149);
    assert.equal((await allPages(exporter, 'export-pages', { outcome: 'pending' }, 50)).rows.length, 0);
    // Nobody can acknowledge yet: `false` is everybody, `true` nobody.
    assert.equal((await allPages(exporter, 'export-pages', { acknowledged: false }, 50)).rows.length, 150);
    assert.equal((await allPages(exporter, 'export-pages', { acknowledged: true }, 50)).rows.length, 0);
    assert.equal((await streamed(exporter, 'export-pages', { outcome: 'failed', acknowledged: false })).length, 1);
  });

  test('a notification not sent yet lists its planned recipients as pending, and once cancelled as not attempted', async () => {
    const connector = await fakeConnector();
    const app = services();
    await seedConversations(app.store, connector.serviceUrl, { count: 60, tenants: 2 });
    await app.queued.submit({ id: 'export-cancelled', activity: { type: 'message', text: 'Never sent' } });
    // Planned by hand, no delivery worker: every recipient is listed and none reached.
    assert.equal(await app.queued.plan({ id: 'export-cancelled' }), 'planned');
    const exporter = new RecipientExport(app.queued.deps);
    assert.deepEqual(countBy(await streamed(exporter, 'export-cancelled')), { pending: 60 });

    assert.equal((await app.queued.cancel('export-cancelled')).kind, 'cancelled');
    assert.deepEqual(countBy(await streamed(exporter, 'export-cancelled')), { notAttempted: 60 });
    assert.equal(connector.received.length, 0);
  });

  test('the CSV has a header and one line per recipient, quoted where a field needs it', async () => {
    const connector = await fakeConnector({ conversationFaults: { 'a:conv-00001': { status: 400, code: 'BadArgument', message: 'not in roster, "really"' } } });
    const app = services();
    await seedConversations(app.store, connector.serviceUrl, { count: 30, tenants: 2 });
    await sendAndFinish(app, 'export-csv');
    const exporter = new RecipientExport(app.queued.deps);
    let text = '';
    for await (const piece of recipientCsv(exporter.rows(await notificationOf(exporter, 'export-csv'), {}))) text += Buffer.from(piece).toString('utf8');
    const lines = text.split('\r\n');
    assert.equal(lines.pop(), '', 'the last line ends with CRLF');
    assert.equal(lines[0], 'conversationId,userId,tenantId,outcome,error,activityId,acknowledgedAt,readAt');
    assert.equal(lines.length, 31);
    const firstId = connector.received.find((activity) => activity.conversationId === 'a:conv-00000')?.id;
    assert.ok(lines.includes(`a:conv-00000,29:user-a:conv-00000,tenant-0,delivered,,${firstId},,`), lines.find((line) => line.startsWith('a:conv-00000')));
    assert.ok(lines.includes('a:conv-00001,29:user-a:conv-00001,tenant-1,failed,"400 BadArgument: not in roster, ""really""",,,'), lines.find((line) => line.startsWith('a:conv-00001')));
  });

  test('a continuation token this export did not give out is refused by name', async () => {
    const app = services();
    await app.queued.submit({ id: 'export-token', activity: { type: 'message', text: 'x' } });
    const exporter = new RecipientExport(app.queued.deps);
    const notification = await notificationOf(exporter, 'export-token');
    await assert.rejects(exporter.page(notification, {}, 10, 'not-a-token'), RecipientCursorError);
    await assert.rejects(exporter.page(notification, {}, 10, Buffer.from('[1,2]').toString('base64url')), RecipientCursorError);
  });
});
