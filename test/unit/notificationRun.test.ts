import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BroadcastEngine } from '../../shared/delivery/broadcast';
import type { Broadcast, BroadcastRequest, BroadcastSummary } from '../../shared/delivery/broadcastTypes';
import { FakeClock } from '../../shared/clock';
import { toStoredConversation } from '../../shared/storage/conversationStore';
import { RateLimiter } from '../../shared/delivery/rateLimiter';
import { channelError } from '../support/channelErrors';
import { recordingLogger } from '../support/recordingLogger';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { MemoryDeliveryLedgers } from '../../shared/ledgers/memoryDeliveryLedgers';
import { requestFingerprint } from '../../shared/notifications/notificationRequest';
import { RunningNotifications, leaseMsFor, sendNotification } from '../../shared/notifications/notificationRun';
import { escapeHtml, outcomeBody, renderNotificationPage } from '../../shared/notifications/notificationSummary';
import { LedgerUnavailableError } from '../../shared/ledgers/tableDeliveryLedgers';
import { StoreUnavailableError } from '../../shared/storage/tableConversationStore';

const activity = { type: 'message', text: 'hi' };
/** The fingerprint of `{ activity }`, as another instance sending the same request would claim it. */
const sameRequest = requestFingerprint({ activity });

function summary(id: string, extra: Partial<BroadcastSummary> = {}): BroadcastSummary {
  return { id, matched: 2, sent: 2, failed: 0, pruned: 0, retried: 0, alreadySent: 0, notAttempted: 0, optedOut: 0, durationMs: 12, failures: [], ...extra };
}

function deps(broadcast: Broadcast) {
  return { broadcast, store: new MemoryConversationStore(), ledgers: new MemoryDeliveryLedgers(), leaseMs: 60_000, running: new RunningNotifications() };
}

describe('sendNotification', () => {
  it('generates a uuid and passes no ledger when the client chose no id', async () => {
    const seen: BroadcastRequest[] = [];
    const outcome = await sendNotification(deps(async (request) => (seen.push(request), summary(request.id))), { activity });
    assert.equal(outcome.kind, 'completed');
    assert.match(seen[0]?.id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(seen[0]?.ledger, undefined);
    assert.equal(seen[0]?.filter, undefined);
  });

  it('passes the client id, the filter and the ledger of that id to the engine', async () => {
    const seen: BroadcastRequest[] = [];
    const filter = { tenantIds: ['t1'] };
    await sendNotification(deps(async (request) => (seen.push(request), summary(request.id))), { id: 'n-1', activity, filter });
    assert.equal(seen[0]?.id, 'n-1');
    assert.deepEqual(seen[0]?.filter, filter);
    assert.ok(seen[0]?.ledger !== undefined);
  });

  it('passes a deadline given with the request to the engine, and claims the id long enough to cover it', async () => {
    let now = 0;
    const ledgers = new MemoryDeliveryLedgers(() => now);
    const seen: BroadcastRequest[] = [];
    const takeovers: boolean[] = [];
    const d = {
      ...deps(async (request) => {
        seen.push(request);
        now += 300_000; // past the lease of the default 200 s deadline
        takeovers.push((await ledgers.claim(request.id, 60_000, sameRequest)).claimed);
        return summary(request.id);
      }),
      ledgers,
      leaseMs: leaseMsFor({ deadlineSeconds: 200 }),
    };
    await sendNotification(d, { id: 'timer-run', activity, deadlineSeconds: 540 });
    await sendNotification(d, { id: 'http-run', activity });
    assert.equal(seen[0]?.deadlineSeconds, 540);
    assert.equal(seen[1]?.deadlineSeconds, undefined, 'without one, the engine uses settings.deadlineSeconds');
    assert.deepEqual(takeovers, [false, true], 'only the run with the longer deadline still holds its id after 300 s');
  });

  it('refuses a second run of an id while the first is still running, and allows it afterwards', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const d = deps(async (request) => {
      await gate;
      return summary(request.id);
    });
    const first = sendNotification(d, { id: 'same', activity });
    const second = await sendNotification(d, { id: 'same', activity });
    assert.deepEqual(second, { kind: 'alreadyRunning', id: 'same' });
    const other = sendNotification(d, { id: 'other', activity });
    release();
    assert.equal((await first).kind, 'completed');
    assert.equal((await other).kind, 'completed', 'another id runs meanwhile');
    assert.equal((await sendNotification(d, { id: 'same', activity })).kind, 'completed');
  });

  it('refuses an id another instance holds a claim on, without calling the engine', async () => {
    let called = false;
    const d = deps(async (r) => ((called = true), summary(r.id)));
    const elsewhere = await d.ledgers.claim('shared-id', 60_000, sameRequest);
    assert.ok(elsewhere.claimed);

    assert.deepEqual(await sendNotification(d, { id: 'shared-id', activity }), { kind: 'alreadyRunning', id: 'shared-id' });
    assert.equal(called, false);
    await elsewhere.release();
    assert.equal((await sendNotification(d, { id: 'shared-id', activity })).kind, 'completed');
  });

  it('refuses a known id with a different message or target as idReused, without calling the engine; the same request proceeds', async () => {
    const sent: string[] = [];
    const d = deps(async (r) => (sent.push(String(r.activity.text)), summary(r.id)));
    assert.equal((await sendNotification(d, { id: 'n1', activity: { type: 'message', text: 'hello all' } })).kind, 'completed');

    const otherText = await sendNotification(d, { id: 'n1', activity: { type: 'message', text: 'x' } });
    assert.deepEqual(otherText, { kind: 'idReused', id: 'n1' });
    assert.match(JSON.stringify(outcomeBody(otherText)), /NotificationIdReused/);
    const otherTarget = await sendNotification(d, { id: 'n1', activity: { type: 'message', text: 'hello all' }, filter: { tenantIds: ['t1'] } });
    assert.equal(otherTarget.kind, 'idReused');
    assert.deepEqual(sent, ['hello all']);

    assert.equal((await sendNotification(d, { id: 'n1', activity: { text: 'hello all', type: 'message' } })).kind, 'completed');
    assert.deepEqual(sent, ['hello all', 'hello all'], 'the same request, keys in any order, runs again');
  });

  it('releases its claim when the run ends, so a later retry of the id can run', async () => {
    const d = deps(async (r) => summary(r.id));
    await sendNotification(d, { id: 'again', activity });
    const claim = await d.ledgers.claim('again', 60_000, sameRequest);
    assert.equal(claim.claimed, true);
  });

  it('frees the id when the engine throws', async () => {
    const d = deps(async () => {
      throw new Error('bug');
    });
    await assert.rejects(sendNotification(d, { id: 'x', activity }), /bug/);
    assert.equal(d.running.tryStart('x'), true);
  });

  it('reports a run the engine stopped early as stoppedEarly', async () => {
    const outcome = await sendNotification(deps(async (r) => summary(r.id, { stoppedEarly: 'credentials refused', notAttempted: 5 })), { activity });
    assert.equal(outcome.kind, 'stoppedEarly');
  });

  it('reports a run the deadline cut short as deadlineReached', async () => {
    const outcome = await sendNotification(deps(async (r) => summary(r.id, { sent: 1, notAttempted: 1 })), { activity });
    assert.equal(outcome.kind, 'deadlineReached');
  });

  it('reports as deadlineReached a run whose only unreached recipient had a retry due after the deadline, so the same id reaches them', async () => {
    const clock = new FakeClock();
    const store = new MemoryConversationStore();
    for (const id of ['c1', 'c2']) {
      const check = toStoredConversation({
        channelId: 'msteams',
        serviceUrl: 'https://smba.example/teams/',
        conversation: { id, tenantId: 't1', isGroup: false, conversationType: 'personal', name: '' },
        bot: { id: 'bot', name: 'bot' },
        user: { id: `user-${id}`, name: '' },
      });
      assert.ok(check.ok);
      await store.upsert(check.conversation);
    }
    const engine = new BroadcastEngine({
      store,
      send: async (conversation) => {
        await clock.sleep(100);
        if (conversation.conversationId === 'c1') throw channelError(429, 'Throttled', '60');
      },
      rateLimiter: new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { warmupMs: 0 }),
      clock,
      settings: { concurrency: 4, maxAttempts: 5, deadlineSeconds: 30 },
      logger: recordingLogger(),
    });
    const outcome = await clock.run(sendNotification({ ...deps((request) => engine.broadcast(request)), store }, { id: 'n-429', activity }));
    assert.equal(outcome.kind, 'deadlineReached');
    assert.ok('summary' in outcome);
    assert.deepEqual([outcome.summary.sent, outcome.summary.failed, outcome.summary.notAttempted], [1, 0, 1]);
  });

  it('probes the conversation table before sending; when it is down, answers storageUnavailable, sends nothing and claims nothing', async () => {
    let called = false;
    const d = deps(async (r) => ((called = true), summary(r.id)));
    const down = {
      list: async () => {
        throw new StoreUnavailableError('list', new Error('ECONNREFUSED'));
      },
    };
    const outcome = await sendNotification({ ...d, store: down }, { id: 'z', activity });
    assert.equal(outcome.kind, 'storageUnavailable');
    assert.match(JSON.stringify(outcomeBody(outcome)), /StorageUnavailable.*ECONNREFUSED/);
    assert.equal(called, false);
    assert.equal(d.running.tryStart('z'), true, 'the id is free again in this process');
    assert.equal((await d.ledgers.claim('z', 60_000, sameRequest)).claimed, true, 'the id was never claimed in the ledger');
  });

  it('answers storageUnavailable without calling the engine when the ledger cannot be reached', async () => {
    let called = false;
    const d = deps(async (r) => ((called = true), summary(r.id)));
    const down = {
      claim: async () => {
        throw new LedgerUnavailableError('claim', new Error('ECONNREFUSED'));
      },
    };
    const outcome = await sendNotification({ ...d, ledgers: down }, { id: 'y', activity });
    assert.equal(outcome.kind, 'storageUnavailable');
    assert.equal(called, false);
  });

  it('does not claim "nothing was sent" for an error the engine throws mid-run: it propagates, and the id is released', async () => {
    const d = deps(async () => {
      throw new StoreUnavailableError('list', new Error('ECONNREFUSED'));
    });
    await assert.rejects(sendNotification(d, { id: 'mid-run', activity }), StoreUnavailableError);
    assert.equal(d.running.tryStart('mid-run'), true);
    assert.equal((await d.ledgers.claim('mid-run', 60_000, sameRequest)).claimed, true);
  });
});

describe('renderNotificationPage', () => {
  it('shows the counts, the message and the failures, escaping everything it interpolates', () => {
    const html = renderNotificationPage(
      {
        kind: 'completed',
        summary: summary('<id>', {
          matched: 3,
          sent: 2,
          failed: 1,
          failures: [
            { channelId: 'msteams', conversationId: 'a:<script>', status: 403, code: 'Forbidden&Co', message: '"quoted"', attempts: 1, pruned: false },
          ],
        }),
      },
      '<b>hello</b> & bye',
    );
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<th>Sent<\/th><td>2<\/td>/);
    assert.match(html, /<th>Conversations matched<\/th><td>3<\/td>/);
    assert.match(html, /<th>Failed<\/th><td>1<\/td>/);
    assert.ok(html.includes(escapeHtml('<b>hello</b> & bye')));
    assert.ok(!html.includes('<script>') && !html.includes('<b>hello') && !html.includes('<id>'));
    assert.ok(html.includes('a:&#60;script&#62;') && html.includes('Forbidden&#38;Co') && html.includes('&#34;quoted&#34;'));
  });

  it('says when a run stopped early and why', () => {
    const html = renderNotificationPage({ kind: 'stoppedEarly', summary: summary('n', { stoppedEarly: 'bad <credentials>' }) }, 'hi');
    assert.match(html, /Stopped early/);
    assert.ok(html.includes('bad &#60;credentials&#62;'));
  });

  it('explains an outage instead of showing counts', () => {
    const html = renderNotificationPage({ kind: 'storageUnavailable', id: 'n', message: 'down' }, 'hi');
    assert.match(html, /Notification not sent/);
    assert.match(html, /Storage is unavailable/);
  });
});
