import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';

const tenantId = 'tenant-fake';
const connectors: FakeConnector[] = [];
afterEach(async () => {
  await Promise.all(connectors.splice(0).map((connector) => connector.stop()));
});

/** A throttling fake whose clock stands still: every request falls in the same windows. */
async function frozenConnector(perTenantPerSecond = 1_000): Promise<FakeConnector> {
  const options: FakeConnectorOptions = { throttle: { perTenantPerSecond, retryAfterSeconds: 2 }, clock: () => 0 };
  const connector = await startFakeConnector(options);
  connectors.push(connector);
  return connector;
}

const members = (count: number, prefix = 'm') => Array.from({ length: count }, (_, i) => ({ id: `29:${prefix}-${i}`, aadObjectId: `aad-${prefix}-${i}` }));

async function roster(connector: FakeConnector, teamId: string, query = 'pageSize=500'): Promise<Response> {
  return fetch(`${connector.serviceUrl}v3/conversations/${encodeURIComponent(teamId)}/pagedmembers?${query}`);
}

async function create(connector: FakeConnector, memberId: string): Promise<Response> {
  return fetch(`${connector.serviceUrl}v3/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ isGroup: false, bot: { id: '28:bot' }, members: [{ id: memberId }], tenantId, channelData: { tenant: { id: tenantId } } }),
  });
}

async function statuses(responses: Promise<Response>[]): Promise<number[]> {
  return (await Promise.all(responses)).map((response) => response.status).sort();
}

describe("the fake connector's Teams routes", () => {
  test("a team's 15th roster call in one second is refused with 429 and Retry-After, while another team's call is answered", async () => {
    const connector = await frozenConnector();
    connector.teams.seedTeam({ tenantId, id: 'team-a', members: members(3) });
    connector.teams.seedTeam({ tenantId, id: 'team-b', members: members(3, 'b') });

    const answers = await Promise.all(Array.from({ length: 15 }, () => roster(connector, 'team-a')));
    const refused = answers.filter((answer) => answer.status === 429);

    assert.deepEqual(answers.map((answer) => answer.status).filter((status) => status === 200).length, 14);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.headers.get('retry-after'), '2');
    assert.equal((await roster(connector, 'team-b')).status, 200);
    assert.deepEqual([connector.teams.rosterCalls, connector.teams.throttled], [15, 1]);
  });

  test("opening one person's chat an 8th time in one second is refused with 429: creating counts like a send, 7 per second", async () => {
    const connector = await frozenConnector();
    connector.teams.seedTeam({ tenantId, id: 'team-a', members: members(1) });
    assert.deepEqual(await statuses(Array.from({ length: 8 }, () => create(connector, '29:m-0'))), [201, 201, 201, 201, 201, 201, 201, 429]);
    assert.deepEqual([connector.teams.creates, connector.teams.newConversations], [7, 1]);
  });

  test("roster calls, new chats and sends count in the same tenant window", async () => {
    const connector = await frozenConnector(10);
    const people = members(4);
    connector.teams.seedTeam({ tenantId, id: 'team-a', members: people });
    const send = (i: number) =>
      fetch(`${connector.serviceUrl}v3/conversations/a:chat-${i}/activities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text: 'hi', conversation: { id: `a:chat-${i}`, tenantId } }),
      });
    const all = await statuses([
      ...Array.from({ length: 4 }, (_, i) => send(i)),
      ...people.map((member) => create(connector, member.id)),
      ...Array.from({ length: 4 }, () => roster(connector, 'team-a')),
    ]);
    assert.equal(all.filter((status) => status === 429).length, 2, `statuses ${all.join(',')}`);
  });

  test('a continuation token of another team, or made up, is refused with 400; an unknown team is a 404', async () => {
    const connector = await frozenConnector();
    connector.teams.seedTeam({ tenantId, id: 'team-a', members: members(120) });
    connector.teams.seedTeam({ tenantId, id: 'team-b', members: members(120, 'b') });
    const first = (await (await roster(connector, 'team-a', 'pageSize=50')).json()) as { continuationToken?: string };
    assert.ok(first.continuationToken !== undefined);
    assert.equal((await roster(connector, 'team-b', `pageSize=50&continuationToken=${encodeURIComponent(first.continuationToken)}`)).status, 400);
    assert.equal((await roster(connector, 'team-a', 'continuationToken=made-up')).status, 400);
    assert.equal((await roster(connector, 'no-such-team')).status, 404);
  });

  test('a page size over 500 is served as 500', async () => {
    const connector = await frozenConnector();
    connector.teams.seedTeam({ tenantId, id: 'team-a', members: members(700) });
    const page = (await (await roster(connector, 'team-a', 'pageSize=900')).json()) as { members: unknown[]; continuationToken?: string };
    assert.equal(page.members.length, 500);
    assert.ok(page.continuationToken !== undefined);
  });
});
