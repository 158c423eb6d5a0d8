import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { realClock } from '../../shared/clock';
import { loadSettings } from '../../shared/settings';
import { GraphPermissionError, GraphRequestError, GraphUnavailableError } from '../../shared/graph/graphErrors';
import { graphDirectoryFromSettings } from '../../shared/graph/graphDirectory';
import type { GraphTokens } from '../../shared/graph/graphTokens';
import { numberedUsers, startFakeGraph, type FakeGraph, type FakeGraphOptions } from '../../scripts/fakeGraph';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../support/managedIdentityEndpoint';

const tenantId = '0f8e5c3a-1111-4222-8333-944455556666';
const catalogAppId = 'catalog-app-1';
const manifestId = '8a1b2c3d-0000-4000-8000-00000000abcd';

let graph: FakeGraph | undefined;

afterEach(async () => {
  await graph?.stop();
  graph = undefined;
});

async function startGraph(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  graph = await startFakeGraph({ ...options, seed: { ...options.seed, catalog: [{ id: catalogAppId, externalId: manifestId, displayName: 'Notifications' }] } });
  return graph;
}

/** Tests sign nothing: the fake Graph takes requests without a token, as local runs send them. */
const noTokens: GraphTokens = { token: async () => undefined };

function directoryOn(fake: FakeGraph, env: Record<string, string> = {}, options: { perSecond?: number; maxAttempts?: number } = {}) {
  const settings = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', MICROSOFT_GRAPH_URL: fake.url, ...env });
  return graphDirectoryFromSettings(settings, { clock: realClock, tokens: noTokens, perSecond: options.perSecond ?? 2_000, installationLookPauseMs: 50, ...options });
}

/** 500 addresses: people 1-480 by their address (every 40th a guest, found by mail), and 20 nobody has, spread through the list. */
function addressesWithUnknowns(): { addresses: string[]; unknown: Set<string> } {
  const addresses: string[] = [];
  const unknown = new Set<string>();
  let known = 0;
  for (let index = 0; index < 500; index++) {
    if (index % 25 === 7) {
      const address = `nobody-${index}@contoso.com`;
      unknown.add(address);
      addresses.push(address);
    } else addresses.push(`user-${++known}@contoso.com`);
  }
  return { addresses, unknown };
}

describe('the Graph directory, over HTTP against the fake Graph', () => {
  it('finds 480 of 500 addresses and reports the 20 unknown ones as not found, in the order asked, in 25 $batch calls', async () => {
    const fake = await startGraph({ seed: { users: numberedUsers(480, { guestEvery: 40 }) } });
    const { directory } = directoryOn(fake);
    const { addresses, unknown } = addressesWithUnknowns();

    const lookups = await directory.findUsers(tenantId, addresses);

    assert.deepEqual(lookups.map((lookup) => lookup.query), addresses);
    assert.deepEqual(lookups.filter((lookup) => lookup.outcome === 'notFound').map((lookup) => lookup.query), [...unknown]);
    const found = lookups.flatMap((lookup) => (lookup.outcome === 'found' ? [lookup] : []));
    assert.equal(found.length, 480);
    assert.ok(found.every((lookup) => lookup.user.id === lookup.query.split('@')[0]), 'each address found its own person');
    assert.equal(found.filter((lookup) => lookup.user.userType === 'Guest').length, 12, 'guests are found by their mail, which is not their UPN');
    assert.equal(fake.counters.batches, 25);
    assert.equal(fake.counters.operations, 500);
  });

  it('pages a group of 5,000 transitive members (nested groups, overlaps, a cycle) into 5,000 distinct users', async () => {
    const users = numberedUsers(5_000);
    const ids = users.map((user) => user.id);
    const fake = await startGraph({
      seed: {
        users,
        groups: [
          { id: 'all-staff', memberIds: ['finance', 'sales', ...ids.slice(0, 1_000)] },
          { id: 'finance', memberIds: [...ids.slice(800, 3_000), 'sales'] },
          { id: 'sales', memberIds: [...ids.slice(2_500, 5_000), 'all-staff'] },
        ],
      },
    });
    const { directory } = directoryOn(fake);

    const seen: string[] = [];
    let pages = 0;
    let nextLink: string | undefined;
    do {
      const page = await directory.groupMembers(tenantId, 'all-staff', nextLink);
      assert.equal(page.outcome, 'found');
      if (page.outcome !== 'found') break;
      pages += 1;
      seen.push(...page.users.map((user) => user.id));
      nextLink = page.nextLink;
    } while (nextLink !== undefined);

    assert.equal(seen.length, 5_000);
    assert.equal(new Set(seen).size, 5_000);
    assert.equal(pages, Math.ceil(5_000 / 999));
    assert.deepEqual(await directory.groupMembers(tenantId, 'no-such-group'), { outcome: 'notFound' });
    assert.deepEqual(await directory.groupMembers(tenantId, 'not an id!'), { outcome: 'notFound' });
  });

  it('never follows a nextLink off the Graph base, where the app\'s token would go to someone else', async () => {
    const fake = await startGraph();
    const { directory } = directoryOn(fake);
    await assert.rejects(directory.groupMembers(tenantId, 'g', 'https://graph.example.net/v1.0/groups/g/transitiveMembers?$skiptoken=x'), GraphRequestError);
    assert.equal(fake.counters.requests, 0);
  });

  it('installs the app for people who lack it, takes "already installed" (409) as installed, and gives everyone their personal chat', async () => {
    const users = numberedUsers(60);
    const fake = await startGraph({ seed: { users, installations: users.slice(0, 15).map((user) => ({ userId: user.id, catalogAppId })) }, botId: 'the-bot' });
    const { directory } = directoryOn(fake, { MicrosoftAppId: '', TEAMS_APP_CATALOG_ID: catalogAppId });
    const asked = [...users.map((user) => user.id), 'ghost-1', 'ghost-2'];

    const results = await directory.installForUsers(tenantId, asked);

    assert.deepEqual(results.map((result) => result.userId), asked);
    const installed = results.flatMap((result) => (result.outcome === 'installed' ? [result] : []));
    assert.equal(installed.length, 60);
    assert.ok(installed.every((result) => result.chatId === `19:${result.userId}_the-bot@unq.gbl.spaces`));
    assert.deepEqual(results.filter((result) => result.outcome === 'notFound').map((result) => result.userId), ['ghost-1', 'ghost-2']);
    assert.equal(fake.counters.installs, 45);
    assert.equal(fake.counters.installConflicts, 15);
  });

  it('looks again for an installation Graph shows late, and fails only the ones it never shows', async () => {
    const users = numberedUsers(4);
    const fake = await startGraph({ seed: { users }, installationLag: 2 });
    const { directory } = directoryOn(fake, { TEAMS_APP_CATALOG_ID: catalogAppId });

    const shownLate = await directory.installForUsers(tenantId, users.slice(0, 2).map((user) => user.id));
    assert.deepEqual(shownLate.map((result) => result.outcome), ['installed', 'installed'], 'shown at the third look');

    fake.directory.installationLag = 5;
    const neverShown = await directory.installForUsers(tenantId, users.slice(2).map((user) => user.id));
    assert.deepEqual(neverShown.map((result) => result.outcome), ['failed', 'failed']);
    assert.match(neverShown[0]!.outcome === 'failed' ? neverShown[0]!.error : '', /did not show the installation after 3 looks/);
  });

  it('fails each installation, with a hint at the catalog id, when the catalog has no app of that id, rather than calling the people unknown', async () => {
    const users = numberedUsers(3);
    const fake = await startGraph({ seed: { users } });
    const { directory } = directoryOn(fake, { TEAMS_APP_CATALOG_ID: 'not-in-the-catalog' });

    const results = await directory.installForUsers(tenantId, users.map((user) => user.id));

    assert.deepEqual(results.map((result) => result.outcome), ['failed', 'failed', 'failed']);
    assert.match(results[0]!.outcome === 'failed' ? results[0]!.error : '', /404 NotFound Not Found.*TEAMS_APP_CATALOG_ID/);
  });

  it('looks the app up in the tenant\'s catalog by its manifest id once, when no catalog id is set', async () => {
    const users = numberedUsers(3);
    const fake = await startGraph({ seed: { users } });
    const { directory } = directoryOn(fake, { MicrosoftAppId: manifestId, MicrosoftAppPassword: 'unused-by-this-test' });

    await directory.installForUsers(tenantId, [users[0]!.id]);
    const afterFirst = fake.counters.operations;
    const results = await directory.installForUsers(tenantId, [users[1]!.id, users[2]!.id]);

    assert.ok(results.every((result) => result.outcome === 'installed'));
    assert.equal(fake.counters.operations - afterFirst, 6, 'the second call installs, finds and reads chats only: no catalog lookup');
  });

  it('loses nothing and repeats nothing when 10 % of answers are throttled with Retry-After, and waits each Retry-After out', async () => {
    const users = numberedUsers(5_000);
    const fake = await startGraph({
      seed: {
        users,
        groups: [{ id: 'everyone', memberIds: users.map((user) => user.id) }],
        installations: users.slice(0, 20).map((user) => ({ userId: user.id, catalogAppId })),
      },
      throttle: { share: 0.1, retryAfterSeconds: 0.2, seed: 7 },
    });
    const { directory, client } = directoryOn(fake, { TEAMS_APP_CATALOG_ID: catalogAppId });
    const addresses = users.slice(0, 500).map((user) => user.mail as string);

    const lookups = await directory.findUsers(tenantId, addresses);
    const members: string[] = [];
    let nextLink: string | undefined;
    do {
      const page = await directory.groupMembers(tenantId, 'everyone', nextLink);
      if (page.outcome !== 'found') assert.fail('the group was not found');
      members.push(...page.users.map((user) => user.id));
      nextLink = page.nextLink;
    } while (nextLink !== undefined);
    const installs = await directory.installForUsers(tenantId, users.slice(0, 100).map((user) => user.id));

    assert.ok(lookups.every((lookup, index) => lookup.outcome === 'found' && lookup.user.id === users[index]!.id));
    assert.equal(members.length, 5_000);
    assert.equal(new Set(members).size, 5_000);
    assert.ok(installs.every((result) => result.outcome === 'installed'));
    assert.equal(fake.counters.installs, 80, 'each missing installation made once');
    assert.equal(fake.counters.installConflicts, 20, 'only the people who had the app already answered 409');
    assert.ok(fake.counters.throttled > 50, `the fake throttled ${fake.counters.throttled} answers`);
    assert.equal(client.stats.throttled, fake.counters.throttled);
    assert.equal(client.stats.retries, fake.counters.throttled, 'every throttled request was sent again once per 429, no other');
    assert.equal(fake.counters.operations, 500 + Math.ceil(5_000 / 999) + 3 * 100 + fake.counters.throttled, 'Graph saw each request once, plus one more per 429');
    assert.equal(fake.counters.earlyRetries, 0, 'no request came back before its Retry-After');
  });

  it('keeps within a tenant limit it did not know by honouring the 429s\' Retry-After', async () => {
    const fake = await startGraph({ seed: { users: numberedUsers(200) }, throttle: { perTenantPerSecond: 60 } });
    const { directory, client } = directoryOn(fake, {}, { perSecond: 500 });

    const lookups = await directory.findUsers(tenantId, numberedUsers(200).map((user) => user.userPrincipalName));

    assert.equal(lookups.filter((lookup) => lookup.outcome === 'found').length, 200);
    assert.ok(fake.counters.throttled > 0, 'the tenant limit was met');
    assert.equal(client.stats.retries, fake.counters.throttled);
    assert.equal(fake.counters.earlyRetries, 0);
  });

  it('names the permission Graph refused: User.Read.All, GroupMember.Read.All, TeamsAppInstallation.ReadWriteSelfForUser.All, AppCatalog.Read.All', async () => {
    const users = numberedUsers(2);
    const fake = await startGraph({ seed: { users, groups: [{ id: 'g', memberIds: [users[0]!.id] }] } });
    const { directory } = directoryOn(fake, { MicrosoftAppId: manifestId, MicrosoftAppPassword: 'unused-by-this-test' });
    const refusal = async (permission: Parameters<FakeGraph['refusePermissions']>[0][number], call: () => Promise<unknown>): Promise<string> => {
      fake.refusePermissions([permission]);
      const error = await call().then(() => assert.fail(`no refusal without ${permission}`), (thrown: unknown) => thrown);
      assert.ok(error instanceof GraphPermissionError, String(error));
      assert.equal(error.tenantId, tenantId);
      return error.permission;
    };

    assert.equal(await refusal('User.Read.All', () => directory.findUsers(tenantId, ['user-1@contoso.com'])), 'User.Read.All');
    assert.equal(await refusal('GroupMember.Read.All', () => directory.groupMembers(tenantId, 'g')), 'GroupMember.Read.All');
    assert.equal(await refusal('AppCatalog.Read.All', () => directory.installForUsers(tenantId, [users[0]!.id])), 'AppCatalog.Read.All');
    assert.equal(
      await refusal('TeamsAppInstallation.ReadWriteSelfForUser.All', () => directory.installForUsers(tenantId, [users[0]!.id])),
      'TeamsAppInstallation.ReadWriteSelfForUser.All',
    );
  });

  it('reports an outage as GraphUnavailableError after its bounded retries', async () => {
    const fake = await startGraph({ seed: { users: numberedUsers(3) } });
    const { directory } = directoryOn(fake, {}, { maxAttempts: 2 });
    fake.setOutage(503);

    await assert.rejects(directory.groupMembers(tenantId, 'any'), (error: unknown) => error instanceof GraphUnavailableError && error.status === 503);
    await assert.rejects(directory.findUsers(tenantId, ['user-1@contoso.com']), GraphUnavailableError);
    assert.equal(fake.counters.operations, 4, 'each call tried twice');
  });

  it('reports a Graph it cannot reach as GraphUnavailableError after its bounded retries', async () => {
    const fake = await startGraph();
    const { directory } = directoryOn(fake, {}, { maxAttempts: 2 });
    await fake.stop();

    await assert.rejects(directory.findUsers(tenantId, ['user-1@contoso.com']), (error: unknown) => error instanceof GraphUnavailableError && /could not be reached after 2 attempts/.test(error.message));
  });
});

describe('the Graph directory signed in as the bot\'s managed identity', () => {
  const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };
  let endpoint: ManagedIdentityEndpoint | undefined;

  after(async () => {
    await endpoint?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('sends the identity\'s token for the Graph origin with every request, asking the identity endpoint once', async () => {
    endpoint = await startManagedIdentityEndpoint();
    // @azure/identity finds App Service's identity endpoint in the environment.
    Object.assign(process.env, endpoint.env);
    const fake = await startGraph({ seed: { users: numberedUsers(40) } });
    const clientId = '5e7f9a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
    const settings = loadSettings({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      MICROSOFT_GRAPH_URL: fake.url,
      MicrosoftAppType: 'UserAssignedMSI',
      MicrosoftAppId: clientId,
      MicrosoftAppTenantId: tenantId,
    });
    const { directory } = graphDirectoryFromSettings(settings, { clock: realClock });

    const lookups = await directory.findUsers(tenantId, numberedUsers(40).map((user) => user.userPrincipalName));

    assert.ok(lookups.every((lookup) => lookup.outcome === 'found'));
    assert.deepEqual(fake.counters.byAuthorization, { [`Bearer ${endpoint.tokenFor(fake.url, clientId)}`]: 2 });
    assert.deepEqual(endpoint.requests.map((request) => [request.query.get('resource'), request.query.get('client_id')]), [[fake.url, clientId]]);
  });
});
