import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { startFakeGraph, type FakeGraph, type FakeGraphUser } from '../../scripts/fakeGraph';
import type { FakeConnector } from '../../scripts/fakeConnector';
import type { FakeTeamMember } from '../../scripts/fakeConnectorTeams';
import type { ConversationStore } from '../../shared/storage/conversationStore';
import { conversation } from '../support/conversationStoreContract';
import { post, status, store, teamsLimits, useQueuedHosts, waitFor, waitUntil } from '../support/queuedHosts';

// runTests: timeout=1800
// Thousands of people at Teams' pace through the local host: about 12 minutes on a loaded 2-core machine.

/**
 * Audiences end to end: the app in the local host of `npm start`, a real Azurite, real HTTP, the fake
 * Bot Connector throttling like Teams (rosters, channel lists, new chats) and the fake Microsoft Graph.
 */

const tenantId = '00000000-0000-4000-8000-00000000e2e0';
const { storage, connector, app } = useQueuedHosts();
const graphs: FakeGraph[] = [];
after(async () => {
  await Promise.all(graphs.splice(0).map((graph) => graph.stop()));
});

async function fakeGraph(): Promise<FakeGraph> {
  const graph = await startFakeGraph({ seed: { catalog: [{ id: 'catalog-app', externalId: 'manifest' }] } });
  graphs.push(graph);
  return graph;
}

async function team(references: ConversationStore, channel: FakeConnector, id: string, name: string, members: readonly FakeTeamMember[], channels: { id: string; name: string }[] = []): Promise<void> {
  channel.teams.seedTeam({ tenantId, id, name, members, channels });
  const stored = conversation(id, { tenantId, conversationType: 'channel', teamId: id, teamName: name, aadObjectId: '', userId: '' });
  await references.upsert({ ...stored, serviceUrl: channel.serviceUrl, reference: { ...stored.reference, serviceUrl: channel.serviceUrl } });
}

const members = (from: number, count: number): FakeTeamMember[] => Array.from({ length: count }, (_, index) => ({ id: `29:p${from + index}`, aadObjectId: `aad-${from + index}` }));

describe('audiences through the local host', () => {
  test('members of 3 teams of 400 with 150 people in two or three: each of the 1,050 gets one message, and a second notification opens no chat', async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    const graph = await fakeGraph();
    const shared = members(90_000, 150);
    const teams = [
      ['19:a@thread.tacv2', 'Alpha', [...members(0, 250), ...shared]],
      ['19:b@thread.tacv2', 'Beta', [...members(1_000, 300), ...shared.slice(0, 100)]],
      ['19:c@thread.tacv2', 'Gamma', [...members(2_000, 350), ...shared.slice(50)]],
    ] as const;
    for (const [id, name, roster] of teams) await team(store(testStorage), channel, id, name, roster);
    const host = await app(testStorage, { MICROSOFT_GRAPH_URL: graph.url });
    const audience = teams.map(([, name]) => ({ team: name, deliverTo: 'members' }));

    const started = performance.now();
    assert.equal((await post(host, { id: 'members-1', text: 'Hello, each of you', audience })).response.status, 202);
    const first = await waitFor(() => host, 'members-1', ['completed', 'failed', 'cancelled'], 600_000);
    t.diagnostic(`1,050 people, new chats: ${Math.round(performance.now() - started)} ms; ${channel.teams.creates} creates; ${channel.throttled} 429(s)`);
    assert.deepEqual({ state: first.state, matched: first.matched, sent: first.sent, failed: first.failed }, { state: 'completed', matched: 1_050, sent: 1_050, failed: 0 });
    // Nobody twice except through a retried send (an attempt timed out after its request went out).
    const retried = (first as unknown as { retried: number }).retried;
    assert.ok(channel.duplicates().size <= retried, `${channel.duplicates().size} duplicate(s), ${retried} retried`);
    assert.equal(new Set(channel.received.map((activity) => activity.conversationId)).size, 1_050);
    const creates = channel.teams.creates;

    const again = performance.now();
    assert.equal((await post(host, { id: 'members-2', text: 'Hello again', audience })).response.status, 202);
    const second = await waitFor(() => host, 'members-2', ['completed', 'failed', 'cancelled'], 600_000);
    t.diagnostic(`the same 1,050 again: ${Math.round(performance.now() - again)} ms`);
    assert.equal(second.sent, 1_050);
    assert.equal(channel.teams.creates, creates, 'no createConversation the second time');
  });

  test('allChannels on a team with 12 channels: 12 deliveries; an ambiguous team name and audience with target are 400s', async () => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    const graph = await fakeGraph();
    const channels = Array.from({ length: 11 }, (_, index) => ({ id: `19:ch${index}@thread.tacv2`, name: `Channel ${index}` }));
    await team(store(testStorage), channel, '19:twelve@thread.tacv2', 'Projects', members(0, 2), channels);
    await team(store(testStorage), channel, '19:other@thread.tacv2', 'projects', members(10, 2));
    const host = await app(testStorage, { MICROSOFT_GRAPH_URL: graph.url });

    const ambiguous = await post(host, { text: 'x', audience: [{ team: 'Projects', deliverTo: 'allChannels' }] });
    assert.equal(ambiguous.response.status, 400);
    assert.match(JSON.stringify(await ambiguous.response.json()), /2 teams are named \\"Projects\\".*19:twelve@thread\.tacv2.*19:other@thread\.tacv2/);
    const both = await post(host, { text: 'x', target: { conversationTypes: ['channel'] }, audience: [{ stored: {} }] });
    assert.equal(both.response.status, 400);
    assert.match(JSON.stringify(await both.response.json()), /\\"audience\\" and \\"target\\" cannot be given together/);

    assert.equal((await post(host, { id: 'channels', text: 'To every channel', audience: [{ team: '19:twelve@thread.tacv2', deliverTo: 'allChannels' }] })).response.status, 202);
    const final = await waitFor(() => host, 'channels', ['completed', 'failed', 'cancelled']);
    assert.equal(final.sent, 12);
    assert.deepEqual(new Set(channel.received.map((activity) => activity.conversationId)), new Set(['19:twelve@thread.tacv2', ...channels.map((item) => item.id)]));
  });

  test('500 emails with 20 unknown: 480 delivered and 20 listed as not found', async () => {
    const testStorage = await storage();
    const channel = await connector(teamsLimits);
    const graph = await fakeGraph();
    await team(store(testStorage), channel, '19:home@thread.tacv2', 'Home', []);
    const users: FakeGraphUser[] = Array.from({ length: 480 }, (_, index) => ({ id: `aad-${index}`, userPrincipalName: `person${index}@contoso.com`, mail: `person${index}@contoso.com` }));
    graph.seed({ users });
    for (const user of users) channel.teams.seedPerson({ tenantId, id: `29:${user.id}`, aadObjectId: user.id, appInstalled: true });
    const unknown = Array.from({ length: 20 }, (_, index) => `nobody${index}@contoso.com`);
    const host = await app(testStorage, { MICROSOFT_GRAPH_URL: graph.url });

    const emails = [...users.map((user) => user.userPrincipalName), ...unknown];
    assert.equal((await post(host, { id: 'emails', text: 'By email', audience: [{ users: emails, tenantId }] })).response.status, 202);
    const final = await waitFor(() => host, 'emails', ['completed', 'failed', 'cancelled'], 300_000);
    assert.deepEqual({ sent: final.sent, failed: final.failed }, { sent: 480, failed: 0 });
    const full = (await status(host, 'emails')) as unknown as { notFound: number; failures: { code: string; conversationId: string }[] };
    assert.equal(full.notFound, 20);
    assert.deepEqual(full.failures.filter((failure) => failure.code === 'notFound').map((failure) => failure.conversationId).sort(), [...unknown].sort());
  });

  for (const installForUsers of [true, false]) {
    test(`a group of 5,000 with 300 without the app: ${installForUsers ? 'installed for, 5,000 delivered' : 'installing not allowed, 4,700 delivered and 300 notInstalled'}`, { timeout: 1_200_000 }, async (t: TestContext) => {
      const testStorage = await storage();
      const channel = await connector(teamsLimits);
      const graph = await fakeGraph();
      await team(store(testStorage), channel, '19:home@thread.tacv2', 'Home', []);
      const users: FakeGraphUser[] = Array.from({ length: 5_000 }, (_, index) => ({ id: `aad-${index}`, userPrincipalName: `person${index}@contoso.com` }));
      const groupId = '11111111-2222-4333-8444-555555555555';
      graph.seed({ users, groups: [{ id: groupId, memberIds: users.map((user) => user.id) }] });
      users.forEach((user, index) => channel.teams.seedPerson({ tenantId, id: `29:${user.id}`, aadObjectId: user.id, appInstalled: index >= 300 }));
      const host = await app(testStorage, { MICROSOFT_GRAPH_URL: graph.url, NOTIFY_INSTALL_FOR_USERS: String(installForUsers), TEAMS_APP_CATALOG_ID: 'catalog-app' });

      const started = performance.now();
      assert.equal((await post(host, { id: 'group', text: 'To the group', audience: [{ group: groupId, tenantId }] })).response.status, 202);
      const final = await waitFor(() => host, 'group', ['completed', 'failed', 'cancelled'], 1_100_000);
      const counts = (await status(host, 'group')) as unknown as { sent: number; failed: number; notInstalled: number; matched: number };
      t.diagnostic(`5,000 group members: ${Math.round(performance.now() - started)} ms; ${graph.counters.installs} installs; ${channel.teams.creates} creates`);
      assert.equal(final.state, 'completed');
      assert.deepEqual(
        { matched: counts.matched, sent: counts.sent, failed: counts.failed, notInstalled: counts.notInstalled },
        installForUsers ? { matched: 5_000, sent: 5_000, failed: 0, notInstalled: 0 } : { matched: 5_000, sent: 4_700, failed: 0, notInstalled: 300 },
      );
      assert.equal(graph.counters.installs, installForUsers ? 300 : 0);
    });
  }

  test('SIGKILL of the host while a 3,000-member team is half done: restarted, every member is delivered', { timeout: 1_200_000 }, async (t: TestContext) => {
    const testStorage = await storage();
    const channel = await connector();
    const graph = await fakeGraph();
    const roster = members(0, 3_000);
    await team(store(testStorage), channel, '19:big@thread.tacv2', 'Everyone', roster);
    // A higher rate than Teams' so the test stays short; the fake connector does not throttle here.
    const settings = { MICROSOFT_GRAPH_URL: graph.url, NOTIFY_TENANT_RATE_PER_SECOND: '150', NOTIFY_CONVERSATION_RATE_PER_SECOND: '150' };
    let host = await app(testStorage, settings);
    assert.equal((await post(host, { id: 'crash', text: 'Survives a crash', audience: [{ team: 'Everyone', deliverTo: 'members' }] })).response.status, 202);
    await waitUntil(() => channel.received.length >= 1_500, '1,500 deliveries', 600_000);

    await host.kill();
    const atKill = channel.received.length;
    host = await app(testStorage, settings);
    const final = await waitFor(() => host, 'crash', ['completed', 'failed', 'cancelled'], 900_000);

    const duplicates = [...channel.duplicates().values()].reduce((sum, times) => sum + times - 1, 0);
    t.diagnostic(`killed after ${atKill} deliveries; ${duplicates} duplicate(s); status sent ${final.sent}, alreadySent ${final.alreadySent}`);
    assert.equal(final.state, 'completed');
    const reached = new Set(channel.received.map((activity) => activity.conversationId));
    assert.equal(reached.size, 3_000, 'every member was delivered');
    assert.equal(final.sent + final.alreadySent, 3_000, 'each member is counted once');
    assert.ok(duplicates <= 128, `duplicates only from sends in flight at the kill (at most NOTIFY_CONCURRENCY), got ${duplicates}`);
  });
});
