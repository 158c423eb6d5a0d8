import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type Fault, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { seedConversations } from '../support/seedConversations';

/**
 * The per-recipient export end to end: the app in the local host of `npm start` (queue triggers
 * included), a real Azurite, real HTTP, a fake Bot Connector told to refuse some
 * conversations and to say others are gone.
 */

interface Status {
  readonly state: string;
  readonly matched: number | null;
  readonly sent: number;
  readonly failed: number;
  readonly pruned: number;
  readonly alreadySent: number;
  readonly optedOut: number;
  readonly pending: number;
}

interface Row {
  readonly conversationId: string;
  readonly outcome: string;
  readonly error: string | null;
}

const refused = Array.from({ length: 12 }, (_, i) => `a:conv-${String(i * 23 + 1).padStart(5, '0')}`);
const gone = ['a:conv-00002', 'a:conv-00150', 'a:conv-00299'];
const faults: Record<string, Fault> = {
  ...Object.fromEntries(refused.map((id) => [id, { status: 400, code: 'BadArgument', message: 'The activity is not valid' }])),
  ...Object.fromEntries(gone.map((id) => [id, { status: 404, code: 'ConversationNotFound' }])),
};

describe('GET /api/notifications/{id}/recipients through the local host', () => {
  let storage: TestStorage;
  let connector: FakeConnector;
  let app: AppProcess;
  let ids: string[];
  let finished: Status;

  before(async () => {
    [storage, connector] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector({ latencyMs: 2, conversationFaults: faults })]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    ids = await seedConversations(store, connector.serviceUrl, { count: 300, tenants: 3 });
    app = await startApp({ settings: appSettings(storage.connectionString, { LOCAL_QUEUE_VISIBILITY_SECONDS: '4', NOTIFICATIONS_SLICE_SECONDS: '3' }) });
    const posted = await fetch(`${app.baseUrl}/api/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'export-300', text: 'Quarterly results are out' }),
    });
    assert.equal(posted.status, 202, await posted.text());
    const deadline = Date.now() + 120_000;
    for (;;) {
      finished = (await (await fetch(`${app.baseUrl}/api/notifications/export-300`)).json()) as Status;
      if (['completed', 'failed', 'cancelled'].includes(finished.state)) break;
      if (Date.now() > deadline) throw new Error(`export-300 stayed ${finished.state}\n${app.output().slice(-3_000)}`);
      await delay(200);
    }
  });

  after(async () => {
    await app?.stop();
    await Promise.all([connector?.stop(), storage?.dispose()]);
  });

  test('the send completes with the refused and gone conversations counted as failed', () => {
    assert.deepEqual(
      { state: finished.state, matched: finished.matched, sent: finished.sent, failed: finished.failed, pruned: finished.pruned },
      { state: 'completed', matched: 300, sent: 285, failed: 15, pruned: 3 },
    );
  });

  test('JSON pages of 64 list every recipient once, and their outcomes add up to the status', async () => {
    const rows: Row[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const response = await fetch(`${app.baseUrl}/api/notifications/export-300/recipients?limit=64${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`);
      assert.equal(response.status, 200);
      const page = (await response.json()) as { recipients: Row[]; nextAfter?: string };
      assert.ok(page.recipients.length <= 64);
      rows.push(...page.recipients);
      after = page.nextAfter;
      pages += 1;
    } while (after !== undefined);

    assert.equal(pages, 5);
    assert.equal(rows.length, 300);
    assert.deepEqual(rows.map((row) => row.conversationId).sort(), [...ids].sort());
    const count = (outcome: string): number => rows.filter((row) => row.outcome === outcome).length;
    assert.equal(count('delivered'), finished.sent + finished.alreadySent);
    assert.equal(count('failed'), finished.failed - finished.pruned);
    assert.equal(count('pruned'), finished.pruned);
    assert.deepEqual(rows.filter((row) => row.outcome === 'failed').map((row) => row.conversationId).sort(), [...refused].sort());
    assert.deepEqual(rows.filter((row) => row.outcome === 'pruned').map((row) => row.conversationId).sort(), [...gone].sort());
    assert.ok(rows.filter((row) => row.outcome === 'failed').every((row) => row.error === '400 BadArgument: The activity is not valid'));
  });

  test('the CSV comes as an attachment with a header and one line per recipient', async () => {
    const response = await fetch(`${app.baseUrl}/api/notifications/export-300/recipients?format=csv`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="export-300-recipients\.csv"/);
    const lines = (await response.text()).split('\r\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines[0], 'conversationId,userId,tenantId,outcome,error,activityId,acknowledgedAt,readAt');
    assert.equal(lines.length, 301);
    assert.equal(lines.filter((line) => line.split(',')[3] === 'delivered').length, finished.sent + finished.alreadySent);
    assert.ok(lines.some((line) => /^a:conv-00002,29:user-a:conv-00002,tenant-2,pruned,404 ConversationNotFound: [^,]*,,,$/.test(line)), lines.find((line) => line.startsWith('a:conv-00002,')));
  });

  test('the filters narrow the CSV and the pages: outcome=failed gives the refused ones, acknowledged=false everyone', async () => {
    const failedCsv = await (await fetch(`${app.baseUrl}/api/notifications/export-300/recipients?format=csv&outcome=failed`)).text();
    assert.equal(failedCsv.trimEnd().split('\r\n').length, 1 + refused.length);
    const unacknowledged = (await (await fetch(`${app.baseUrl}/api/notifications/export-300/recipients?acknowledged=false&limit=1000`)).json()) as { recipients: Row[] };
    assert.equal(unacknowledged.recipients.length, 300);
    const pruned = (await (await fetch(`${app.baseUrl}/api/notifications/export-300/recipients?outcome=pruned`)).json()) as { recipients: Row[]; nextAfter?: string };
    assert.deepEqual(pruned.recipients.map((row) => row.conversationId).sort(), [...gone].sort());
  });

  test('malformed parameters are refused with 400 naming them, and an unknown notification is 404', async () => {
    const errorsOf = async (query: string): Promise<string[]> => {
      const response = await fetch(`${app.baseUrl}/api/notifications/export-300/recipients?${query}`);
      assert.equal(response.status, 400, query);
      return ((await response.json()) as { errors: string[] }).errors;
    };
    assert.match((await errorsOf('outcome=sent')).join(' '), /"outcome" must be one of delivered, failed, pruned, optedOut, pending, notAttempted/);
    assert.match((await errorsOf('acknowledged=yes')).join(' '), /"acknowledged" must be "true" or "false"/);
    assert.match((await errorsOf('limit=0')).join(' '), /"limit"/);
    assert.match((await errorsOf('format=xlsx')).join(' '), /"format"/);
    assert.match((await errorsOf('after=garbage')).join(' '), /"after"/);
    const unknown = await fetch(`${app.baseUrl}/api/notifications/no-such-notification/recipients`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: string }).error, 'NotificationNotFound');
  });
});
