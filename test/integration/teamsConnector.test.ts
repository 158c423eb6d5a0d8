import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ServiceClientCredentialsFactory, type ServiceClientCredentials } from 'botframework-connector';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';
import type { FakeTeamMember } from '../../scripts/fakeConnectorTeams';
import type { PersonRecipient } from '../../shared/delivery/broadcastTypes';
import { createServices, type Services } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { listAll } from '../../shared/storage/conversationStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { recordingLogger } from '../support/recordingLogger';

const tenantId = 'tenant-reach';
const teamId = '19:finance-general@thread.tacv2';

const connectors: FakeConnector[] = [];
afterEach(async () => {
  await Promise.all(connectors.splice(0).map((connector) => connector.stop()));
});

async function fakeConnector(options: FakeConnectorOptions = {}): Promise<FakeConnector> {
  const connector = await startFakeConnector({ latencyMs: 2, ...options });
  connectors.push(connector);
  return connector;
}

/** The app's services on a memory store (nothing here touches storage but the references). */
function services(extra: Record<string, string> = {}, credentialsFactory?: ServiceClientCredentialsFactory): Services {
  const settings = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', NOTIFY_CONCURRENCY: '32', ...extra });
  return createServices(settings, {
    logger: recordingLogger(),
    store: new MemoryConversationStore(),
    ...(credentialsFactory === undefined ? {} : { adapterOptions: { credentialsFactory } }),
  });
}

const botAppId = '11111111-2222-3333-4444-555555555555';
const bearer = 'Bearer test-token-for-the-fake-connector';

/** Credentials that sign every request with a fixed token (Azure AD cannot be reached from tests). */
class FixedTokenCredentialsFactory extends ServiceClientCredentialsFactory {
  override async isValidAppId(appId = ''): Promise<boolean> {
    return appId === botAppId;
  }

  override async isAuthenticationDisabled(): Promise<boolean> {
    return false;
  }

  override async createCredentials(): Promise<ServiceClientCredentials> {
    return {
      async signRequest(request) {
        request.headers.set('Authorization', bearer);
        return request;
      },
    };
  }
}

function members(count: number, prefix = 'm'): FakeTeamMember[] {
  return Array.from({ length: count }, (_, i) => ({ id: `29:${prefix}-${i}`, aadObjectId: `aad-${prefix}-${i}`, name: `Member ${i}` }));
}

function person(connector: FakeConnector, member: FakeTeamMember): PersonRecipient {
  return { tenantId, serviceUrl: connector.serviceUrl, channelId: 'msteams', memberId: member.id, aadObjectId: member.aadObjectId };
}

const team = (connector: FakeConnector) => ({ tenantId, teamId, serviceUrl: connector.serviceUrl });
const notification = { activity: { type: 'message', text: 'The office is closed on Friday' }, filter: { conversationIds: [] } };

describe('Teams connector calls over HTTP against the fake connector', () => {
  test("a 400-member team's roster comes in one page of up to 500, with every member's object id and role", async () => {
    const connector = await fakeConnector();
    const roster = members(400);
    connector.teams.seedTeam({ tenantId, id: teamId, members: [...roster.slice(0, 399), { ...roster[399]!, userRole: 'guest' }] });
    const app = services();

    const page = await app.teams.membersPage(team(connector));

    assert.equal(page.members.length, 400);
    assert.equal(page.continuationToken, undefined);
    assert.deepEqual(page.members[0], { id: '29:m-0', aadObjectId: 'aad-m-0', name: 'Member 0', userRole: 'user' });
    assert.equal(page.members[399]?.userRole, 'guest');
    assert.equal(connector.teams.rosterCalls, 1);
  });

  test('a 1,200-member roster is read in pages of 500 by following the continuation token, each member once', async () => {
    const connector = await fakeConnector();
    connector.teams.seedTeam({ tenantId, id: teamId, members: members(1_200) });
    const app = services();

    const sizes: number[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await app.teams.membersPage(team(connector), token);
      sizes.push(page.members.length);
      for (const member of page.members) seen.add(member.aadObjectId);
      token = page.continuationToken;
    } while (token !== undefined);

    assert.deepEqual(sizes, [500, 500, 200]);
    assert.equal(seen.size, 1_200);
  });

  test('a page size under 50 is served as 50, as Teams does', async () => {
    const connector = await fakeConnector();
    connector.teams.seedTeam({ tenantId, id: teamId, members: members(120) });
    const app = services();
    const page = await app.teams.membersPage(team(connector), undefined, 10);
    assert.equal(page.members.length, 50);
    assert.ok(page.continuationToken !== undefined);
  });

  test("a team's 12 channels are listed, the General one with the team's id and no name", async () => {
    const connector = await fakeConnector();
    const channels = Array.from({ length: 11 }, (_, i) => ({ id: `19:channel-${i}@thread.tacv2`, name: `Channel ${i}` }));
    connector.teams.seedTeam({ tenantId, id: teamId, members: members(3), channels });
    const app = services();

    const listed = await app.teams.channels(team(connector));

    assert.equal(listed.length, 12);
    assert.deepEqual(listed[0], { id: teamId, name: null });
    assert.deepEqual(listed.slice(1), channels);
  });

  test('a member who never wrote to the bot gets a new personal chat and the message; the chat is stored, so the next notification sends without creating one', async () => {
    const connector = await fakeConnector();
    const [member] = members(1);
    connector.teams.seedTeam({ tenantId, id: teamId, members: [member!] });
    const app = services();

    const first = await app.broadcast({ id: 'first', ...notification, people: [person(connector, member!)] });

    assert.deepEqual([first.matched, first.sent, first.failed, first.chatsOpened], [1, 1, 0, 1]);
    const chatId = connector.teams.personalConversationOf(tenantId, member!.id);
    assert.ok(chatId !== undefined);
    assert.equal(connector.deliveredCount(chatId), 1);
    assert.deepEqual([connector.teams.creates, connector.teams.newConversations], [1, 1]);
    const stored = [];
    for await (const conversation of listAll(app.store)) stored.push(conversation);
    assert.deepEqual(
      stored.map(({ conversationId, aadObjectId, userId, conversationType, tenantId: tenant }) => ({ conversationId, aadObjectId, userId, conversationType, tenant })),
      [{ conversationId: chatId, aadObjectId: member!.aadObjectId, userId: member!.id, conversationType: 'personal', tenant: tenantId }],
    );

    const second = await app.broadcast({ id: 'second', activity: notification.activity, filter: { tenantIds: [tenantId], userIds: [member!.aadObjectId] } });

    assert.deepEqual([second.sent, second.failed], [1, 0]);
    assert.equal(connector.deliveredCount(chatId), 2);
    assert.equal(connector.teams.creates, 1, 'no second create');
  });

  test('a member who already has a chat with the bot gets the same chat back, not a new one', async () => {
    const connector = await fakeConnector();
    const [member] = members(1);
    connector.teams.seedTeam({ tenantId, id: teamId, members: [member!] });
    const app = services();
    const first = await app.teams.createPersonalConversation({ serviceUrl: connector.serviceUrl, tenantId, memberId: member!.id });
    const again = await app.teams.createPersonalConversation({ serviceUrl: connector.serviceUrl, tenantId, memberId: member!.aadObjectId });
    assert.ok(first.ok && again.ok);
    assert.equal(again.conversation.conversationId, first.conversation.conversationId);
    assert.deepEqual([connector.teams.creates, connector.teams.newConversations], [2, 1]);
  });

  test('someone who blocked the bot, someone without the app and no shared team, and someone unknown are not reached, each counted by its reason', async () => {
    const connector = await fakeConnector();
    const [reachable, blocked] = members(2);
    connector.teams.seedTeam({ tenantId, id: teamId, members: [reachable!, blocked!] });
    connector.teams.seedPerson({ ...blocked!, tenantId, blocked: true });
    const outsider = { id: '29:outsider', aadObjectId: 'aad-outsider' };
    connector.teams.seedPerson({ ...outsider, tenantId });
    const unknown = { id: '29:gone', aadObjectId: 'aad-gone' };
    const app = services();

    const summary = await app.broadcast({ id: 'reasons', ...notification, people: [reachable!, blocked!, outsider, unknown].map((member) => person(connector, member)) });

    assert.deepEqual([summary.matched, summary.sent, summary.failed, summary.retried], [4, 1, 3, 0]);
    assert.deepEqual(summary.unreachable, { blocked: 1, notInstalled: 1, notFound: 1 });
    const reasons = Object.fromEntries(summary.failures.map((failure) => [failure.aadObjectId, [failure.reason, failure.status, failure.code]]));
    assert.deepEqual(reasons, {
      [blocked!.aadObjectId]: ['blocked', 403, 'MessageWritesBlocked'],
      'aad-outsider': ['notInstalled', 403, 'BotNotInConversationRoster'],
      'aad-gone': ['notFound', 404, 'NotFound'],
    });
    assert.equal(connector.accepted, 1, 'only the reachable member got the message');
  });

  test('creating a chat for someone without the app answers notInstalled, and for someone who blocked the bot answers blocked', async () => {
    const connector = await fakeConnector();
    connector.teams.seedPerson({ id: '29:no-app', aadObjectId: 'aad-no-app', tenantId });
    connector.teams.seedPerson({ id: '29:blocker', aadObjectId: 'aad-blocker', tenantId, appInstalled: true, blocked: true });
    const app = services();
    const noApp = await app.teams.createPersonalConversation({ serviceUrl: connector.serviceUrl, tenantId, memberId: '29:no-app' });
    const blocker = await app.teams.createPersonalConversation({ serviceUrl: connector.serviceUrl, tenantId, memberId: 'aad-blocker' });
    assert.deepEqual(noApp.ok ? undefined : [noApp.reason, noApp.status], ['notInstalled', 403]);
    assert.deepEqual(blocker.ok ? undefined : [blocker.reason, blocker.status], ['blocked', 403]);
  });

  test("with the bot's credentials, the roster, the channel list and a new chat each carry the bot's token", async () => {
    const connector = await fakeConnector({ requireAuthorization: bearer });
    const [member] = members(1);
    connector.teams.seedTeam({ tenantId, id: teamId, members: [member!], channels: [{ id: '19:news@thread.tacv2', name: 'News' }] });
    const app = services({ MicrosoftAppId: botAppId, MicrosoftAppPassword: 'unused' }, new FixedTokenCredentialsFactory());

    const page = await app.teams.membersPage(team(connector));
    const channels = await app.teams.channels(team(connector));
    const created = await app.teams.createPersonalConversation({ serviceUrl: connector.serviceUrl, tenantId, memberId: member!.id });

    assert.equal(page.members.length, 1);
    assert.equal(channels.length, 2);
    assert.ok(created.ok);
    assert.equal(connector.byStatus.get(401), undefined, 'no request went without the token');
  });

  test("a throttled roster call is tried again after the connector's Retry-After and then answers", async () => {
    // Retry-After of a whole window: the retry cannot come before the first call's second is over.
    const connector = await fakeConnector({ throttle: { perTenantPerSecond: 1, retryAfterSeconds: 1 } });
    connector.teams.seedTeam({ tenantId, id: teamId, members: members(60) });
    const app = services();
    const first = await app.teams.membersPage(team(connector), undefined, 50);
    // The tenant's one request a second is taken: the fake answers 429 until its window slides.
    const second = await app.teams.membersPage(team(connector), first.continuationToken, 50);
    assert.equal(first.members.length + second.members.length, 60);
    assert.equal(connector.teams.rosterCalls, 2);
    assert.ok(connector.teams.throttled > 0, 'the second call was throttled at least once');
  });
});
