import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startFakeGraph, type FakeGraph, type FakeGraphUser } from '../../scripts/fakeGraph';
import type { FakeConnector } from '../../scripts/fakeConnector';
import type { FakeTeamMember } from '../../scripts/fakeConnectorTeams';
import { resolveAudience } from '../../shared/audience/resolveAudience';
import { parseNotificationRequest } from '../../shared/notifications/notificationRequest';
import type { NotificationStatusWithFailures } from '../../shared/queued/notificationStatus';
import { RecipientExport, type RecipientRow } from '../../shared/queued/recipientExport';
import type { Services } from '../../shared/services';
import { conversation } from '../support/conversationStoreContract';
import { useQueuedTestBed, waitForState } from '../support/queuedTestBed';

/**
 * Queued notifications with an `audience`, on a real Azurite, the real queues and engine, the fake
 * Bot Connector (rosters, channels, new chats) and the fake Microsoft Graph (users, groups, installs).
 */

const tenantId = '00000000-0000-4000-8000-00000000c0de';
const catalogAppId = 'catalog-app-1';
const bed = useQueuedTestBed('audience', 1);
const graphs: FakeGraph[] = [];

async function world(options: { installForUsers?: boolean } = {}): Promise<{ app: Services; connector: FakeConnector; graph: FakeGraph }> {
  const connector = await bed.fakeConnector();
  const graph = await startFakeGraph({ seed: { catalog: [{ id: catalogAppId, externalId: 'manifest-id' }] } });
  graphs.push(graph);
  const app = bed.services({
    settings: {
      MICROSOFT_GRAPH_URL: graph.url,
      NOTIFY_INSTALL_FOR_USERS: options.installForUsers === true ? 'true' : 'false',
      TEAMS_APP_CATALOG_ID: catalogAppId,
      MicrosoftAppTenantId: '',
    },
    tuning: { batchSize: 200 },
  });
  return { app, connector, graph };
}

/** A team the bot was added to: the fake connector's team, and the channel reference the bot would have stored. */
async function team(app: Services, connector: FakeConnector, id: string, name: string, members: readonly FakeTeamMember[], channels: { id: string; name: string }[] = []): Promise<void> {
  connector.teams.seedTeam({ tenantId, id, name, members, channels });
  const stored = conversation(id, { tenantId, conversationType: 'channel', teamId: id, teamName: name, aadObjectId: '', userId: '' });
  await app.store.upsert({ ...stored, serviceUrl: connector.serviceUrl, reference: { ...stored.reference, serviceUrl: connector.serviceUrl } });
}

function members(from: number, count: number): FakeTeamMember[] {
  return Array.from({ length: count }, (_, index) => ({ id: `29:p${from + index}`, aadObjectId: `aad-${from + index}` }));
}

async function send(app: Services, id: string, audience: unknown[]): Promise<NotificationStatusWithFailures> {
  const parsed = parseNotificationRequest(JSON.stringify({ id, text: 'Reach everyone', audience }), app.settings, { queued: true });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join(' '));
  const resolved = await resolveAudience(parsed.value.audience ?? [], { listTeams: () => app.store.listTeams(), defaultTenantId: '' });
  assert.ok(resolved.ok, resolved.ok ? '' : resolved.errors.join(' '));
  await app.queued.submit(parsed.value, resolved.value);
  bed.pump(app);
  return waitForState(app.queued, id, ['completed', 'failed', 'cancelled'], 240_000);
}

/**
 * Everyone got it, and nobody twice except through a retried send: on this shared, loaded machine an
 * attempt can time out (15 s, wire gate included) after its request went out, and its retry delivers
 * again, which the engine accepts for timeouts (see queued.md, "What a crash costs"). Planning and the
 * claims never put a person in two batches: `matched` and `sent` count each person once.
 */
function deliveredOnce(connector: FakeConnector, conversationIds: readonly string[], status: NotificationStatusWithFailures): void {
  const counts = conversationIds.map((conversationId) => connector.deliveredCount(conversationId));
  assert.ok(counts.every((count) => count >= 1), 'everyone got it');
  const twice = [...connector.duplicates().keys()];
  assert.ok(twice.length <= status.retried, `duplicates only from retried sends: ${twice.length} duplicate(s) (${twice.slice(0, 5).join(', ')}), ${status.retried} retried`);
}

async function exported(app: Services, id: string): Promise<RecipientRow[]> {
  const exporter = new RecipientExport(app.queued.deps);
  const notification = await exporter.notification(id);
  assert.ok(notification !== undefined);
  const rows: RecipientRow[] = [];
  for await (const row of exporter.rows(notification, {})) rows.push(row);
  return rows;
}

describe('queued notifications to an audience', { concurrency: false }, () => {
  test.after(async () => {
    await Promise.all(graphs.splice(0).map((graph) => graph.stop()));
  });

  test('each member of three overlapping teams gets one personal message, and a second notification opens no chat', async () => {
    const { app, connector } = await world();
    // 90 people in two or three of the teams; 250 distinct (the e2e test runs the 1,050).
    const shared = members(90_000, 90);
    await team(app, connector, '19:team-a@thread.tacv2', 'Alpha', [...members(0, 40), ...shared]);
    await team(app, connector, '19:team-b@thread.tacv2', 'Beta', [...members(1_000, 50), ...shared.slice(0, 60)]);
    await team(app, connector, '19:team-c@thread.tacv2', 'Gamma', [...members(2_000, 70), ...shared.slice(30)]);
    const audience = ['Alpha', 'Beta', 'Gamma'].map((name) => ({ team: name, deliverTo: 'members' }));

    const first = await send(app, 'members-1', audience);
    assert.equal(first.state, 'completed');
    assert.equal(first.matched, 250);
    assert.equal(first.sent, 250);
    const people = [...members(0, 40), ...members(1_000, 50), ...members(2_000, 70), ...shared];
    deliveredOnce(connector, people.map((person) => connector.teams.personalConversationOf(tenantId, person.id) ?? `missing ${person.id}`), first);
    const creates = connector.teams.creates;
    assert.equal(creates, 250, 'one chat opened per person');

    const second = await send(app, 'members-2', audience);
    assert.equal(second.sent, 250);
    assert.equal(connector.teams.creates, creates, 'the chats opened before are reused');
  });

  test('every channel of a team gets the post', async () => {
    const { app, connector } = await world();
    const channels = Array.from({ length: 11 }, (_, index) => ({ id: `19:channel-${index}@thread.tacv2`, name: `Channel ${index}` }));
    await team(app, connector, '19:twelve@thread.tacv2', 'Twelve', members(0, 3), channels);
    const status = await send(app, 'channels', [{ team: '19:twelve@thread.tacv2', deliverTo: 'allChannels' }]);
    assert.equal(status.sent, 12);
    deliveredOnce(connector, ['19:twelve@thread.tacv2', ...channels.map((channel) => channel.id)], status);
  });

  test('people by email (120, 20 unknown): the unknown addresses are listed as not found, the others reached', async () => {
    const { app, connector, graph } = await world();
    await team(app, connector, '19:home@thread.tacv2', 'Home', []);
    const users: FakeGraphUser[] = Array.from({ length: 100 }, (_, index) => ({ id: `aad-${index}`, userPrincipalName: `person${index}@contoso.com`, mail: `person${index}@contoso.com` }));
    graph.seed({ users });
    for (const user of users) connector.teams.seedPerson({ tenantId, id: `29:${user.id}`, aadObjectId: user.id, appInstalled: true });
    const unknown = Array.from({ length: 20 }, (_, index) => `nobody${index}@contoso.com`);
    const emails = [...users.map((user) => user.userPrincipalName), ...unknown];

    const status = await send(app, 'emails', [{ users: emails, tenantId }]);
    assert.equal(status.sent, 100);
    assert.equal(status.notFound, 20);
    assert.equal(status.failed, 0);
    assert.deepEqual(status.failures.filter((failure) => failure.code === 'notFound').map((failure) => failure.conversationId).sort(), [...unknown].sort());
    const rows = await exported(app, 'emails');
    assert.equal(rows.filter((row) => row.outcome === 'notFound').length, 20);
    assert.equal(rows.filter((row) => row.outcome === 'delivered').length, 100);
  });

  test('a group the app may not read ends the notification failed, naming the permission to grant', async () => {
    const { app, connector, graph } = await world();
    await team(app, connector, '19:home@thread.tacv2', 'Home', []);
    const groupId = '11111111-2222-4333-8444-555555555555';
    graph.seed({ users: [{ id: 'aad-1', userPrincipalName: 'one@contoso.com' }], groups: [{ id: groupId, memberIds: ['aad-1'] }] });
    graph.refusePermissions(['GroupMember.Read.All']);
    const status = await send(app, 'group-refused', [{ group: groupId, tenantId }]);
    assert.equal(status.state, 'failed');
    assert.match(status.error ?? '', /group 11111111-2222-4333-8444-555555555555: .*GroupMember\.Read\.All/);
    assert.equal(connector.received.length, 0);
  });

  for (const installForUsers of [true, false]) {
    test(`a group whose members partly lack the app: ${installForUsers ? 'installed for, everyone reached' : 'installing not allowed, they are counted notInstalled'}`, async () => {
      const { app, connector, graph } = await world({ installForUsers });
      await team(app, connector, '19:home@thread.tacv2', 'Home', []);
      const users: FakeGraphUser[] = Array.from({ length: 150 }, (_, index) => ({ id: `aad-${index}`, userPrincipalName: `person${index}@contoso.com` }));
      const groupId = '11111111-2222-4333-8444-555555555555';
      graph.seed({ users, groups: [{ id: groupId, memberIds: users.map((user) => user.id) }] });
      users.forEach((user, index) => connector.teams.seedPerson({ tenantId, id: `29:${user.id}`, aadObjectId: user.id, appInstalled: index >= 30 }));

      const status = await send(app, `group-${installForUsers}`, [{ group: groupId, tenantId }]);
      assert.equal(status.matched, 150);
      assert.equal(status.sent, installForUsers ? 150 : 120);
      assert.equal(status.notInstalled, installForUsers ? 0 : 30);
      assert.equal(status.failed, 0);
      assert.equal(graph.counters.installs, installForUsers ? 30 : 0);
    });
  }
});
