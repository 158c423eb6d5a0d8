import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { notificationStatus } from '../../shared/queued/notificationStatus';
import type { NotificationRecord, PlanRecord, WorkRecord } from '../../shared/queued/notificationTable';
import type { PassRecord } from '../../shared/queued/passTable';

const notification: NotificationRecord = {
  id: 'n-1',
  fingerprint: 'f',
  request: { activity: { type: 'message', text: 'v3' } },
  revision: 3,
  state: 'completed',
  createdAt: new Date('2026-12-01T09:00:00Z'),
  etag: '*',
};
const plan: PlanRecord = { pages: 1, matched: 300, done: true, etag: '*' };

function work(tenantId: string, sent: number, alreadySent = 0): WorkRecord {
  return { tenantId, cursor: 'z', state: 'done', attempts: 0, sent, failed: 0, pruned: 0, retried: 0, alreadySent, optedOut: 0, notFound: 0, guest: 0, notInstalled: 0, blocked: 0, etag: '*' };
}

function pass(name: string, tenantId: string, state: PassRecord['state'], done: number, failed = 0, unchanged = 0): PassRecord {
  return { pass: name, tenantId, cursor: '', state, attempts: 0, done, failed, pruned: 0, retried: 0, unchanged, etag: '*' };
}

describe('the progress of edits and recalls in the status', () => {
  test('shows the message as the latest revision reads, text and card as the request gave them, without the acknowledge button', () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Moved to 11:00' }] };
    const activity = { type: 'message', text: 'v3', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] };
    const status = notificationStatus({ ...notification, request: { activity, acknowledge: { label: 'Got it' } } }, plan, [work('a', 300)]);
    assert.deepEqual(status.content, { text: 'v3', card });
    assert.deepEqual(notificationStatus(notification, plan, []).content, { text: 'v3' });
  });

  test('a notification never edited shows revision 1, no revisions and no recall', () => {
    const status = notificationStatus({ ...notification, revision: 1 }, plan, [work('a', 300)]);
    assert.equal(status.revision, 1);
    assert.deepEqual(status.revisions, []);
    assert.equal('recall' in status, false);
  });

  test('each edit shows what its passes updated and failed over all tenants, and what is pending while one runs', () => {
    const status = notificationStatus(notification, plan, [work('a', 100), work('b', 150, 50)], [
      pass('revision-2', 'a', 'superseded', 40),
      pass('revision-2', 'b', 'superseded', 10),
      pass('revision-3', 'a', 'done', 90, 2, 8),
      pass('revision-3', 'b', 'active', 120, 1, 9),
    ]);
    assert.equal(status.revision, 3);
    assert.deepEqual(status.revisions, [
      { revision: 2, state: 'superseded', updated: 50, failed: 0, pending: 0 },
      // tenant b: 200 delivered, 120 updated, 1 failed, 9 already showing revision 3: 70 to go
      { revision: 3, state: 'running', updated: 210, failed: 3, pending: 70 },
    ]);
  });

  test('a recall counts what was removed; a tenant whose pass went to the poison queue makes it failed', () => {
    const status = notificationStatus({ ...notification, state: 'recalled' }, plan, [work('a', 100), work('b', 200)], [
      pass('recall', 'a', 'done', 100),
      pass('recall', 'b', 'poisoned', 30, 0, 0),
    ]);
    assert.equal(status.state, 'recalled');
    assert.deepEqual(status.recall, { state: 'failed', removed: 130, failed: 0, pending: 0 });
  });

  test('an edit stopped by a recall reads as stopped', () => {
    const status = notificationStatus({ ...notification, state: 'recalled', revision: 2 }, plan, [work('a', 100)], [
      pass('revision-2', 'a', 'cancelled', 20),
      pass('recall', 'a', 'active', 10, 0, 20),
    ]);
    assert.deepEqual(status.revisions, [{ revision: 2, state: 'stopped', updated: 20, failed: 0, pending: 0 }]);
    assert.deepEqual(status.recall, { state: 'running', removed: 10, failed: 0, pending: 70 });
  });
});
