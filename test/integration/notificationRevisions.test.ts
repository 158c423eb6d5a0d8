import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FakeConnector } from '../../scripts/fakeConnector';
import type { FakeMessage } from '../../scripts/fakeConnectorMessages';
import { deliveryRowKey } from '../../shared/ledgers/deliveryLedgers';
import { recallPass, revisionPass } from '../../shared/queued/passActions';
import { ledgerNameOf } from '../../shared/queued/workContext';
import type { Services } from '../../shared/services';
import { useQueuedTestBed, waitForState, waitForStatus } from '../support/queuedTestBed';
import { seedConversations } from '../support/seedConversations';

/**
 * Edits and recalls of queued notifications on a real Azurite and the real CloudAdapter against the
 * fake Bot Connector (which keeps each conversation's messages): a pass per tenant over the ledger.
 */

const bed = useQueuedTestBed('revisions');
const { fakeConnector, pump } = bed;

const original = { type: 'message', text: 'Maintenance tonight at 22:00' };
const edited = { type: 'message', text: 'Maintenance moved to 23:00' };

async function sendAndFinish(app: Services, id: string): Promise<void> {
  await app.queued.submit({ id, activity: original });
  pump(app);
  const status = await waitForState(app.queued, id, ['completed', 'failed', 'cancelled']);
  assert.equal(status.state, 'completed');
}

/** Every seeded conversation shows exactly one message, with this text. */
function assertEveryChatShows(connector: FakeConnector, ids: readonly string[], text: string): void {
  const wrong = ids.filter((id) => {
    const messages = connector.messages(id);
    return messages.length !== 1 || messages[0]?.text !== text;
  });
  assert.deepEqual(wrong, [], `chats not showing "${text}"`);
}

describe('editing and recalling a queued notification', () => {
  test('an edit replaces the message in every chat it was delivered to, once each, and the status shows the revision done', async () => {
    const connector = await fakeConnector();
    const app = bed.services();
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 120, tenants: 3 });
    await sendAndFinish(app, 'edit-all');
    assertEveryChatShows(connector, ids, original.text);

    const outcome = await app.queued.edit('edit-all', edited);
    assert.equal(outcome.kind, 'edited');
    const status = await waitForStatus(app.queued, 'edit-all', (current) => current.revisions[0]?.state === 'done');

    assertEveryChatShows(connector, ids, edited.text);
    assert.equal(connector.activityChanges.updated, 120);
    assert.deepEqual(ids.filter((id) => connector.updatesOf(id) !== 1), []);
    assert.equal(status.revision, 2);
    assert.deepEqual(status.revisions, [{ revision: 2, state: 'done', updated: 120, failed: 0, pending: 0 }]);
    assert.equal(status.state, 'completed');
  });

  test('a pass cut short after some chats were updated resumes without updating those chats again', async () => {
    const connector = await fakeConnector();
    const app = bed.services({ tuning: { batchSize: 30 } });
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 60, tenants: 1 });
    await sendAndFinish(app, 'edit-resume');
    const { deps } = app.queued;

    // What a worker that died mid-batch leaves: the revision and its pass row, the batch marked started,
    // and 10 chats updated and marked in the ledger.
    const notification = await deps.notifications.get('edit-resume');
    assert.ok(notification !== undefined);
    const revised = await deps.notifications.revise(notification, { ...notification.request, activity: edited });
    const pass = revisionPass(revised.revision);
    assert.equal(await deps.passes.create('edit-resume', pass, 'tenant-0'), true);
    const record = await deps.passes.get('edit-resume', pass, 'tenant-0');
    assert.ok(record !== undefined);
    await deps.passes.update('edit-resume', record, { started: record.cursor });
    const entries = await deps.ledgers.entries(ledgerNameOf('edit-resume', 'tenant-0'));
    const marks = deps.ledgers.openMarks(ledgerNameOf('edit-resume', 'tenant-0'), { name: pass, revision: revised.revision });
    const alreadyUpdated = ids.slice(0, 10);
    for (const id of alreadyUpdated) {
      const conversation = await app.store.get({ channelId: 'msteams', conversationId: id });
      const activityId = conversation === undefined ? undefined : entries.get(deliveryRowKey(conversation))?.activityId;
      assert.ok(conversation !== undefined && activityId !== undefined);
      await deps.activities.update(conversation, activityId, edited);
      await marks.record(conversation);
    }
    assert.equal(connector.activityChanges.updated, 10);

    await deps.queues.enqueueDeliver({ id: 'edit-resume', tenantId: 'tenant-0', pass });
    const status = await waitForStatus(app.queued, 'edit-resume', (current) => current.revisions[0]?.state === 'done');

    assertEveryChatShows(connector, ids, edited.text);
    assert.deepEqual(ids.filter((id) => connector.updatesOf(id) !== 1), [], 'each chat updated exactly once');
    assert.equal(connector.activityChanges.updated, 60);
    // The 10 the dead worker updated count too: the chats this revision reached, whoever's attempt it was.
    assert.deepEqual(status.revisions, [{ revision: 2, state: 'done', updated: 60, failed: 0, pending: 0 }]);
  });

  test('a recall cut short after some messages were deleted resumes without deleting them again, and counts them as removed', async () => {
    const connector = await fakeConnector();
    const app = bed.services({ tuning: { batchSize: 30 } });
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 60, tenants: 1 });
    await sendAndFinish(app, 'recall-resume');
    const { deps } = app.queued;

    // What a worker that died mid-batch leaves: the recalled state and its pass row, the batch marked
    // started, and 10 messages deleted and marked in the ledger.
    assert.ok((await deps.notifications.transition('recall-resume', 'recalled', {}, ['completed'])) !== undefined);
    assert.equal(await deps.passes.create('recall-resume', recallPass, 'tenant-0'), true);
    const record = await deps.passes.get('recall-resume', recallPass, 'tenant-0');
    assert.ok(record !== undefined);
    await deps.passes.update('recall-resume', record, { started: record.cursor });
    const entries = await deps.ledgers.entries(ledgerNameOf('recall-resume', 'tenant-0'));
    const marks = deps.ledgers.openMarks(ledgerNameOf('recall-resume', 'tenant-0'), { name: 'recalled' });
    for (const id of ids.slice(0, 10)) {
      const conversation = await app.store.get({ channelId: 'msteams', conversationId: id });
      const activityId = conversation === undefined ? undefined : entries.get(deliveryRowKey(conversation))?.activityId;
      assert.ok(conversation !== undefined && activityId !== undefined);
      await deps.activities.remove(conversation, activityId);
      await marks.record(conversation);
    }

    await deps.queues.enqueueDeliver({ id: 'recall-resume', tenantId: 'tenant-0', pass: recallPass });
    const status = await waitForStatus(app.queued, 'recall-resume', (current) => current.recall?.state === 'done');

    assert.equal(connector.activityChanges.deleted, 60);
    assert.equal(connector.activityChanges.unknown, 0, 'no message deleted twice');
    assert.deepEqual(ids.filter((id) => connector.messages(id).length !== 0), []);
    assert.equal(status.recall?.removed, 60);
  });

  test('an edit while the send still runs: chats reached before show the edited message after the pass, the others get it directly', async () => {
    const connector = await fakeConnector({ latencyMs: 5 });
    const app = bed.services({ settings: { NOTIFY_TENANT_RATE_PER_SECOND: '20' }, tuning: { batchSize: 10 } });
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 200, tenants: 2 });
    await app.queued.submit({ id: 'edit-running', activity: original });
    pump(app);
    await waitForStatus(app.queued, 'edit-running', (status) => status.sent >= 20);
    assert.equal((await app.queued.edit('edit-running', edited)).kind, 'edited');

    const status = await waitForStatus(app.queued, 'edit-running', (current) => current.state === 'completed' && current.revisions[0]?.state === 'done');
    assertEveryChatShows(connector, ids, edited.text);
    const sentOriginal = connector.received.filter((activity) => activity.text === original.text).length;
    assert.ok(sentOriginal >= 20 && sentOriginal < 200, `${sentOriginal} received the original`);
    assert.equal(connector.received.length, 200, 'each chat got one message');
    assert.equal(connector.activityChanges.updated, sentOriginal, 'only the chats that got the original were updated');
    assert.equal(status.revisions[0]?.updated, sentOriginal);
  });

  test('a recall stops the send, deletes the message in every chat, and counts what it removed', async () => {
    const connector = await fakeConnector();
    const app = bed.services();
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 90, tenants: 3 });
    await sendAndFinish(app, 'recall-all');
    assert.equal(connector.messageCount(), 90);

    const outcome = await app.queued.recall('recall-all');
    assert.equal(outcome.kind, 'recalled');
    const status = await waitForStatus(app.queued, 'recall-all', (current) => current.recall?.state === 'done');
    assert.equal(connector.messageCount(), 0);
    assert.deepEqual(ids.filter((id) => connector.messages(id).length > 0), []);
    assert.equal(status.state, 'recalled');
    assert.deepEqual(status.recall, { state: 'done', removed: 90, failed: 0, pending: 0 });

    assert.equal((await app.queued.edit('recall-all', edited)).kind, 'notEditable');
    const again = await app.queued.recall('recall-all');
    assert.ok(again.kind === 'recalled' && again.existing);
    assert.equal(connector.activityChanges.deleted, 90, 'a second recall deletes nothing more');
  });

  test('an edit of a notification cancelled before it reached anybody, or of an unknown id, is refused', async () => {
    const app = bed.services();
    await app.queued.submit({ id: 'edit-cancelled', activity: original });
    await app.queued.cancel('edit-cancelled');
    assert.equal((await app.queued.edit('edit-cancelled', edited)).kind, 'notEditable');
    assert.equal((await app.queued.edit('no-such-notification', edited)).kind, 'notFound');
    assert.equal((await app.queued.recall('no-such-notification')).kind, 'notFound');
  });
});

describe('an edit of a notification that asks for acknowledgements', () => {
  const acknowledge = { label: 'Got it' };

  async function sendAcknowledgeable(app: Services, id: string): Promise<void> {
    await app.queued.submit({ id, activity: original, acknowledge });
    pump(app);
    assert.equal((await waitForState(app.queued, id, ['completed', 'failed', 'cancelled'])).state, 'completed');
  }

  /** A press of the button by the person of a seeded personal chat, in it. */
  async function press(app: Services, id: string, chat: string, at: Date): Promise<void> {
    const stored = await app.store.get({ channelId: 'msteams', conversationId: chat });
    assert.ok(stored !== undefined);
    await app.acknowledgements.acknowledge({
      notificationId: id,
      person: { tenantId: stored.tenantId, channelId: 'msteams', userId: stored.userId, aadObjectId: stored.aadObjectId },
      conversation: { channelId: 'msteams', conversationId: chat },
      at,
      offsetMinutes: undefined,
    });
  }

  /** What a message shows: its text, then its card's text blocks and buttons ("[label]"). */
  function shown(message: FakeMessage): string[] {
    const card = (message.activity?.['attachments'] as { content: { body?: { text?: string }[]; actions?: { title: string }[] } }[] | undefined)?.[0]?.content;
    return [message.text ?? '', ...(card?.body ?? []).map((block) => block.text ?? ''), ...(card?.actions ?? []).map((action) => `[${action.title}]`)];
  }

  test('replaces the reminders sent into each chat too: after send, remind and edit every message in every reminded chat shows the new text, and updated counts chats', async () => {
    const connector = await fakeConnector();
    const app = bed.services({ tuning: { batchSize: 15 } });
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 40, tenants: 2 });
    await sendAcknowledgeable(app, 'edit-reminded');
    const acknowledged = ids.filter((_, index) => index % 4 === 0);
    for (const chat of acknowledged) await press(app, 'edit-reminded', chat, new Date());

    assert.equal((await app.queued.remind('edit-reminded', 'first')).kind, 'reminding');
    await waitForStatus(app.queued, 'edit-reminded', (status) => status.reminders[0]?.state === 'done');
    assert.equal((await app.queued.remind('edit-reminded', 'second')).kind, 'reminding');
    await waitForStatus(app.queued, 'edit-reminded', (status) => status.reminders[1]?.state === 'done');
    const reminded = ids.filter((chat) => !acknowledged.includes(chat));
    assert.deepEqual(reminded.filter((chat) => connector.messages(chat).length !== 3), [], 'the message and two reminders in each chat that had not acknowledged');

    assert.equal((await app.queued.edit('edit-reminded', edited)).kind, 'edited');
    const status = await waitForStatus(app.queued, 'edit-reminded', (current) => current.revisions[0]?.state === 'done');

    const stale = reminded.filter((chat) => connector.messages(chat).some((message) => message.text !== edited.text));
    assert.deepEqual(stale, [], 'every message of every reminded chat shows the new text');
    assert.deepEqual(reminded.filter((chat) => connector.updatesOf(chat) !== 3), [], 'each of its three messages replaced once');
    assert.deepEqual(status.revisions, [{ revision: 2, state: 'done', updated: 40, failed: 0, pending: 0 }], 'updated counts chats, not messages');
    assert.equal(connector.activityChanges.updated, acknowledged.length + reminded.length * 3);
  });

  test('shows those who acknowledged in their personal chat the new message with their acknowledgement, and the others the button', async () => {
    const connector = await fakeConnector({ recordActivities: true });
    const app = bed.services();
    const ids = await seedConversations(app.store, connector.serviceUrl, { count: 10, tenants: 1 });
    await sendAcknowledgeable(app, 'edit-acknowledged');
    const acknowledged = [ids[1], ids[4], ids[8]] as string[];
    for (const [index, chat] of acknowledged.entries()) await press(app, 'edit-acknowledged', chat, new Date(Date.UTC(2026, 11, 7, 9, 14 + index)));

    assert.equal((await app.queued.edit('edit-acknowledged', edited)).kind, 'edited');
    await waitForStatus(app.queued, 'edit-acknowledged', (current) => current.revisions[0]?.state === 'done');

    const sameDay = (line: string) => line.replace(/^Acknowledged on 2026-12-07 at /, 'Acknowledged at ');
    for (const chat of ids) {
      const [message, ...others] = connector.messages(chat);
      assert.equal(others.length, 0);
      assert.ok(message !== undefined && message.updates === 1, `${chat} updated once`);
      const index = acknowledged.indexOf(chat);
      const expected = index === -1 ? [edited.text, '[Got it]'] : [edited.text, `Acknowledged at 09:1${4 + index} UTC`];
      assert.deepEqual(shown(message).map(sameDay), expected, chat);
    }
  });
});

