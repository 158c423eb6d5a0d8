import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startFakeGraph, type FakeGraph } from '../../scripts/fakeGraph';
import type { FakeConnector, FakeConnectorOptions } from '../../scripts/fakeConnector';
import type { FakeMessage } from '../../scripts/fakeConnectorMessages';
import type { FakeTeamMember } from '../../scripts/fakeConnectorTeams';
import { resolveAudience } from '../../shared/audience/resolveAudience';
import { parseNotificationRequest } from '../../shared/notifications/notificationRequest';
import { personKey } from '../../shared/queued/audienceBatch';
import { RecipientExport, type RecipientRow } from '../../shared/queued/recipientExport';
import { ledgerNameOf } from '../../shared/queued/workContext';
import type { Services } from '../../shared/services';
import { conversation } from '../support/conversationStoreContract';
import { useQueuedTestBed, waitForState, waitForStatus } from '../support/queuedTestBed';

/**
 * The life of a notification sent to the members of a team, each in their personal chat, on a real
 * Azurite, the real queues and engine, and the fake Bot Connector: the edit, the reminder, the read
 * receipts and the recall reach each person in the chat the delivery opened or reused.
 */

const tenantId = '00000000-0000-4000-8000-0000000f00d5';
const bed = useQueuedTestBed('persons', 1);
const graphs: FakeGraph[] = [];

const original = 'Fire drill at 10:00, meet at the car park';
const edited = 'Fire drill moved to 11:00, meet at the car park';

async function world(connectorOptions: FakeConnectorOptions = {}): Promise<{ app: Services; connector: FakeConnector }> {
  const connector = await bed.fakeConnector(connectorOptions);
  const graph = await startFakeGraph({ seed: { catalog: [{ id: 'catalog-app-1', externalId: 'manifest-id' }] } });
  graphs.push(graph);
  const app = bed.services({
    settings: { MICROSOFT_GRAPH_URL: graph.url, NOTIFY_INSTALL_FOR_USERS: 'false', TEAMS_APP_CATALOG_ID: 'catalog-app-1', MicrosoftAppTenantId: '' },
    tuning: { batchSize: 25 },
  });
  bed.pump(app);
  return { app, connector };
}

async function team(app: Services, connector: FakeConnector, id: string, name: string, members: readonly FakeTeamMember[]): Promise<void> {
  connector.teams.seedTeam({ tenantId, id, name, members });
  const stored = conversation(id, { tenantId, conversationType: 'channel', teamId: id, teamName: name, aadObjectId: '', userId: '' });
  await app.store.upsert({ ...stored, serviceUrl: connector.serviceUrl, reference: { ...stored.reference, serviceUrl: connector.serviceUrl } });
}

function members(count: number): FakeTeamMember[] {
  return Array.from({ length: count }, (_, index) => ({ id: `29:member-${index}`, aadObjectId: `aad-member-${index}` }));
}

async function sendToMembers(app: Services, id: string, teamName: string): Promise<void> {
  const body = { id, text: original, audience: [{ team: teamName, deliverTo: 'members' }], acknowledge: { label: 'Got it' } };
  const parsed = parseNotificationRequest(JSON.stringify(body), app.settings, { queued: true });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join(' '));
  const resolved = await resolveAudience(parsed.value.audience ?? [], { listTeams: () => app.store.listTeams(), defaultTenantId: '' });
  assert.ok(resolved.ok, resolved.ok ? '' : resolved.errors.join(' '));
  await app.queued.submit(parsed.value, resolved.value);
  const status = await waitForState(app.queued, id, ['completed', 'failed', 'cancelled'], 120_000);
  assert.equal(status.state, 'completed', JSON.stringify({ ...status, failures: status.failures.slice(0, 3) }));
}

async function exported(app: Services, id: string): Promise<RecipientRow[]> {
  const exporter = new RecipientExport(app.queued.deps);
  const notification = await exporter.notification(id);
  assert.ok(notification !== undefined);
  const rows: RecipientRow[] = [];
  for await (const row of exporter.rows(notification, {})) rows.push(row);
  return rows;
}

function texts(connector: FakeConnector, chat: string): string[] {
  return connector.messages(chat).map((message) => message.text ?? '');
}

describe('edit, remind, read receipts and recall for people reached as members of a team', { concurrency: false }, () => {
  test.after(async () => {
    await Promise.all(graphs.splice(0).map((graph) => graph.stop()));
  });

  test('every person is edited once, reminded unless they acknowledged, their reads counted, and the message and its reminders recalled from their chat', async () => {
    const { app, connector } = await world();
    const people = members(60);
    // 20 of the 60 were reached before (their chats are stored); the other 40 never were, and get a chat opened.
    await team(app, connector, '19:wardens@thread.tacv2', 'Wardens', people.slice(0, 20));
    await sendToMembers(app, 'warm-up', 'Wardens');
    const opened = connector.teams.creates;
    await team(app, connector, '19:floor@thread.tacv2', 'Floor', people);

    await sendToMembers(app, 'drill', 'Floor');
    assert.equal(connector.teams.creates - opened, 40, 'a chat opened for each of the 40 never reached, none for the others');
    const chatOf = new Map(people.map((person) => [person.aadObjectId, connector.teams.personalConversationOf(tenantId, person.id) ?? `no chat for ${person.id}`]));
    const chats = [...chatOf.values()];

    const rows = await exported(app, 'drill');
    assert.equal(rows.length, 60);
    assert.deepEqual(rows.filter((row) => row.outcome !== 'delivered' || row.conversationId !== chatOf.get(row.userId)), [], 'each delivered row names the chat it went to');

    assert.equal((await app.queued.edit('drill', { type: 'message', text: edited })).kind, 'edited');
    const afterEdit = await waitForStatus(app.queued, 'drill', (status) => status.revisions[0]?.state === 'done', 120_000);
    assert.deepEqual(afterEdit.revisions, [{ revision: 2, state: 'done', updated: 60, failed: 0, pending: 0 }]);
    assert.deepEqual(chats.filter((chat) => connector.updatesOf(chat) !== 1), [], 'each chat updated exactly once');
    // The warm-up's message is still in the first 20 chats: the drill's is the last one.
    assert.deepEqual(chats.filter((chat) => texts(connector, chat).at(-1) !== edited), [], 'every chat shows the edited text');

    // 12 acknowledge in their own chat, 3 more in the team's channel: the reminder leaves out all 15, by their Entra id.
    const acknowledging = people.slice(10, 25);
    for (const [index, person] of acknowledging.entries()) {
      const where = index < 12 ? (chatOf.get(person.aadObjectId) ?? '') : '19:floor@thread.tacv2';
      await app.acknowledgements.acknowledge({
        notificationId: 'drill',
        person: { tenantId, channelId: 'msteams', userId: person.id, aadObjectId: person.aadObjectId },
        conversation: { channelId: 'msteams', conversationId: where },
        at: new Date(),
        offsetMinutes: undefined,
      });
    }
    const messagesBefore = new Map(chats.map((chat) => [chat, connector.messages(chat).length]));
    const reminding = await app.queued.remind('drill', 'first');
    assert.equal(reminding.kind, 'reminding');
    const afterRemind = await waitForStatus(app.queued, 'drill', (status) => status.reminders[0]?.state === 'done', 120_000);
    assert.deepEqual(afterRemind.reminders, [{ id: 'first', state: 'done', reminded: 45, acknowledged: 15, failed: 0, pending: 0 }]);
    const acknowledgedChats = new Set(acknowledging.map((person) => chatOf.get(person.aadObjectId)));
    const wronglyReminded = chats.filter((chat) => connector.messages(chat).length - (messagesBefore.get(chat) ?? 0) !== (acknowledgedChats.has(chat) ? 0 : 1));
    assert.deepEqual(wronglyReminded, [], 'one reminder in each chat of someone who had not acknowledged, none elsewhere');

    // 8 people read up to the drill's message (their receipts name the last message they read in their chat).
    const readers = people.slice(40, 48);
    for (const person of readers) {
      const chat = chatOf.get(person.aadObjectId) ?? '';
      const latest = connector.messages(chat).at(-1)?.id ?? '';
      assert.equal(await app.readReceipts.receipt({ tenantId, conversation: { channelId: 'msteams', conversationId: chat }, lastReadMessageId: latest, at: new Date() }), 1);
    }
    const read = await waitForStatus(app.queued, 'drill', (status) => status.read === 8);
    assert.equal(read.acknowledged, 15);
    const engaged = await exported(app, 'drill');
    assert.deepEqual(engaged.filter((row) => row.readAt !== null).map((row) => row.userId).sort(), readers.map((person) => person.aadObjectId).sort());
    assert.deepEqual(engaged.filter((row) => row.acknowledgedAt !== null).map((row) => row.userId).sort(), acknowledging.map((person) => person.aadObjectId).sort());

    // The drill's message in each chat: the one the edit updated.
    const drillMessage = new Map(chats.map((chat) => [chat, connector.messages(chat).find((message) => message.updates === 1)?.id]));
    const deletedBefore = connector.activityChanges.deleted;
    assert.equal((await app.queued.recall('drill')).kind, 'recalled');
    const recalled = await waitForStatus(app.queued, 'drill', (status) => status.recall?.state === 'done', 120_000);
    assert.deepEqual(recalled.recall, { state: 'done', removed: 60, failed: 0, pending: 0 });
    assert.equal(connector.activityChanges.deleted - deletedBefore, 60 + 45, 'the message and the reminders, each deleted once');
    assert.deepEqual(chats.filter((chat) => connector.messages(chat).some((message) => message.id === drillMessage.get(chat))), [], 'the drill message is gone from every chat');
    // Only the warm-up's message is left, in the chats of the 20 it reached.
    const warmedUp = new Set(people.slice(0, 20).map((person) => chatOf.get(person.aadObjectId)));
    assert.deepEqual(chats.filter((chat) => connector.messages(chat).length !== (warmedUp.has(chat) ? 1 : 0)), [], 'nothing of the drill is left, reminders included');
    assert.deepEqual(chats.filter((chat) => texts(connector, chat).some((text) => text !== original)), []);
  });

  test('an edit after a reminder replaces both in each person\'s chat: acknowledged for those who pressed (in their chat or the team\'s channel), with the button for the others', async () => {
    const { app, connector } = await world({ recordActivities: true });
    const people = members(10);
    await team(app, connector, '19:exits@thread.tacv2', 'Exits', people);
    await sendToMembers(app, 'exits', 'Exits');
    const chatOf = new Map(people.map((person) => [person.aadObjectId, connector.teams.personalConversationOf(tenantId, person.id) ?? `no chat for ${person.id}`]));
    const acknowledging = people.slice(0, 3);
    for (const [index, person] of acknowledging.entries()) {
      await app.acknowledgements.acknowledge({
        notificationId: 'exits',
        person: { tenantId, channelId: 'msteams', userId: person.id, aadObjectId: person.aadObjectId },
        conversation: { channelId: 'msteams', conversationId: index < 2 ? (chatOf.get(person.aadObjectId) ?? '') : '19:exits@thread.tacv2' },
        at: new Date(),
        offsetMinutes: undefined,
      });
    }
    assert.equal((await app.queued.remind('exits', 'first')).kind, 'reminding');
    await waitForStatus(app.queued, 'exits', (status) => status.reminders[0]?.state === 'done', 120_000);

    assert.equal((await app.queued.edit('exits', { type: 'message', text: edited })).kind, 'edited');
    const status = await waitForStatus(app.queued, 'exits', (current) => current.revisions[0]?.state === 'done', 120_000);
    assert.deepEqual(status.revisions, [{ revision: 2, state: 'done', updated: 10, failed: 0, pending: 0 }]);
    const buttonOf = (message: FakeMessage) =>
      (message.activity?.['attachments'] as { content: { actions?: { title: string }[]; body?: { text?: string }[] } }[] | undefined)?.[0]?.content;
    for (const person of people) {
      const chat = chatOf.get(person.aadObjectId) ?? '';
      const shown = connector.messages(chat);
      const pressed = acknowledging.includes(person);
      assert.equal(shown.length, pressed ? 1 : 2, `${person.id}: the message${pressed ? '' : ' and its reminder'}`);
      for (const message of shown) {
        assert.equal(message.text, edited, `${person.id} shows the new text`);
        const card = buttonOf(message);
        if (pressed) assert.match(card?.body?.at(-1)?.text ?? '', /^Acknowledged (on \S+ )?at \d{2}:\d{2} UTC$/, person.id);
        else assert.deepEqual(card?.actions?.map((action) => action.title), ['Got it'], person.id);
      }
    }
  });

  test('a person whose delivery was recorded before chats were kept cannot be edited and counts as failed; the others are updated', async () => {
    const { app, connector } = await world();
    const people = members(20);
    await team(app, connector, '19:old-rows@thread.tacv2', 'Old rows', people);
    await sendToMembers(app, 'old-rows', 'Old rows');
    // What a delivery recorded before this change left: the person's key and an activity id, no chat.
    const first = people[0] as FakeTeamMember;
    await app.queued.deps.ledgers.open(ledgerNameOf('old-rows', tenantId), { groupWindowMs: 0 }).recordDelivered(personKey({ aadObjectId: first.aadObjectId }), '1700000000001');

    assert.equal((await app.queued.edit('old-rows', { type: 'message', text: edited })).kind, 'edited');
    const status = await waitForStatus(app.queued, 'old-rows', (current) => current.revisions[0]?.state === 'done', 120_000);
    assert.deepEqual(status.revisions, [{ revision: 2, state: 'done', updated: 19, failed: 1, pending: 0 }]);
    const chatOfFirst = connector.teams.personalConversationOf(tenantId, first.id) ?? '';
    assert.deepEqual(texts(connector, chatOfFirst), [original], 'their chat still shows the message as sent');
  });
});
