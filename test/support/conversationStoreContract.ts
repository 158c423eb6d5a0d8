import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  listAll,
  type ConversationFilter,
  type ConversationStore,
  type StoredConversation,
} from '../../shared/storage/conversationStore';
import { hostileIds } from './hostileIds';

export interface ConversationFields {
  readonly channelId?: string;
  readonly tenantId?: string;
  readonly userId?: string;
  readonly aadObjectId?: string;
  readonly conversationType?: string;
  readonly teamId?: string;
  readonly teamName?: string;
  readonly updatedAt?: Date;
}

/** A stored conversation whose reference carries the same fields, as toStoredConversation makes them. */
export function conversation(conversationId: string, fields: ConversationFields = {}): StoredConversation {
  const { channelId = 'msteams', tenantId = 'tenant-1', userId = 'user-1', aadObjectId = 'aad-1', conversationType = 'personal', teamId, teamName } = fields;
  const serviceUrl = 'https://smba.trafficmanager.net/emea/';
  return {
    channelId,
    conversationId,
    serviceUrl,
    tenantId,
    userId,
    aadObjectId,
    conversationType,
    ...(teamId === undefined ? {} : { teamId }),
    ...(teamName === undefined ? {} : { teamName }),
    updatedAt: fields.updatedAt ?? new Date('2026-11-25T10:11:12.345Z'),
    reference: {
      activityId: 'f:1234',
      channelId,
      serviceUrl,
      locale: 'en-US',
      bot: { id: '28:bot-app-id', name: 'Notifier' },
      user: { id: userId, name: 'Ada', aadObjectId },
      conversation: { id: conversationId, tenantId, conversationType, isGroup: conversationType !== 'personal', name: '' },
    },
  };
}

async function listIds(store: ConversationStore, filter?: ConversationFilter, pageSize = 3): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of listAll(store, filter, pageSize)) ids.push(item.conversationId);
  return ids.sort();
}

/** Registers the behaviour every ConversationStore must have; createStore gives each test an empty store. */
export function conversationStoreContract(createStore: () => ConversationStore): void {
  test('an upserted conversation reads back with every field intact', async () => {
    const store = createStore();
    const stored = conversation('19:abc@thread.tacv2', { conversationType: 'channel', aadObjectId: 'aad-7' });
    await store.upsert(stored);
    assert.deepEqual(await store.get(stored), stored);
  });

  test('getting a conversation that was never stored gives undefined', async () => {
    const store = createStore();
    await store.upsert(conversation('present'));
    assert.equal(await store.get({ channelId: 'msteams', conversationId: 'absent' }), undefined);
    assert.equal(await store.get({ channelId: 'emulator', conversationId: 'present' }), undefined);
  });

  test('upserting the same conversation twice keeps one entry holding the latest version', async () => {
    const store = createStore();
    await store.upsert(conversation('twice', { userId: 'old' }));
    const latest = conversation('twice', { userId: 'new' });
    await store.upsert(latest);
    const all = [];
    for await (const item of listAll(store)) all.push(item);
    assert.deepEqual(all, [latest]);
  });

  test('the same conversation id in two channels is two entries', async () => {
    const store = createStore();
    await store.upsert(conversation('same', { channelId: 'msteams' }));
    await store.upsert(conversation('same', { channelId: 'emulator' }));
    assert.deepEqual(await listIds(store), ['same', 'same']);
  });

  test('deleting a stored conversation removes it and says so; deleting it again says nothing was deleted', async () => {
    const store = createStore();
    const stored = conversation('to-delete');
    await store.upsert(stored);
    assert.equal(await store.delete(stored), true);
    assert.equal(await store.get(stored), undefined);
    assert.equal(await store.delete(stored), false);
    assert.deepEqual(await listIds(store), []);
  });

  test('inserting a conversation adds it once: a second insert says false and keeps the first version', async () => {
    const store = createStore();
    const first = conversation('inserted', { userId: 'first' });
    assert.equal(await store.insert(first), true);
    assert.equal(await store.insert(conversation('inserted', { userId: 'second' })), false);
    assert.deepEqual(await store.get(first), first);
  });

  test('of two concurrent inserts of one conversation, exactly one adds it', async () => {
    const store = createStore();
    const results = await Promise.all([store.insert(conversation('raced', { userId: 'a' })), store.insert(conversation('raced', { userId: 'b' }))]);
    assert.deepEqual([...results].sort(), [false, true]);
    assert.equal((await store.get(conversation('raced')))?.userId, results[0] ? 'a' : 'b');
  });

  test('a conditional delete keeps a conversation updated after the given time and deletes one that was not', async () => {
    const store = createStore();
    const stored = conversation('conditional');
    await store.upsert(stored);
    const justBefore = new Date(stored.updatedAt.getTime() - 1);
    assert.equal(await store.delete(stored, { notUpdatedAfter: justBefore }), false);
    assert.deepEqual(await store.get(stored), stored);
    assert.equal(await store.delete(stored, { notUpdatedAfter: stored.updatedAt }), true);
    assert.equal(await store.get(stored), undefined);
    assert.equal(await store.delete(stored, { notUpdatedAfter: stored.updatedAt }), false, 'a missing conversation is not an error');
  });

  test('a delete without a condition removes a conversation whatever its update time', async () => {
    const store = createStore();
    const recent = { ...conversation('recent'), updatedAt: new Date('2099-01-01T00:00:00.000Z') };
    await store.upsert(recent);
    assert.equal(await store.delete(recent), true);
    assert.equal(await store.get(recent), undefined);
  });

  test('hostile conversation ids round-trip through upsert, get, list and delete', async () => {
    const store = createStore();
    const all = hostileIds.map((id) => conversation(id));
    for (const item of all) await store.upsert(item);
    for (const item of all) assert.deepEqual(await store.get(item), item, `get ${JSON.stringify(item.conversationId.slice(0, 40))}`);
    assert.deepEqual(await listIds(store), [...hostileIds].sort());
    for (const id of hostileIds) assert.deepEqual(await listIds(store, { conversationIds: [id] }), [id]);
    for (const item of all) assert.equal(await store.delete(item), true, `delete ${JSON.stringify(item.conversationId.slice(0, 40))}`);
    assert.deepEqual(await listIds(store), []);
  });

  test('listing 25 conversations with page size 10 gives 3 pages holding every conversation exactly once', async () => {
    const store = createStore();
    const ids = Array.from({ length: 25 }, (_, i) => `conversation-${i}`);
    for (const id of ids) await store.upsert(conversation(id));
    const pages: string[][] = [];
    let continuationToken: string | undefined;
    do {
      const page = await store.list({ pageSize: 10, continuationToken });
      pages.push(page.items.map((item) => item.conversationId));
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined);
    assert.equal(pages.length, 3);
    assert.deepEqual(pages.flat().sort(), ids.sort());
  });

  test('the same conversation id in two tenants is two entries, each found and deleted with its tenant id', async () => {
    const store = createStore();
    const inOne = conversation('shared-id', { tenantId: 'one', userId: 'u-one' });
    const inTwo = conversation('shared-id', { tenantId: 'two', userId: 'u-two' });
    await store.upsert(inOne);
    await store.upsert(inTwo);
    assert.deepEqual(await store.get({ channelId: 'msteams', conversationId: 'shared-id', tenantId: 'two' }), inTwo);
    assert.equal(await store.delete({ channelId: 'msteams', conversationId: 'shared-id', tenantId: 'one' }), true);
    assert.deepEqual(await store.get(inOne), undefined);
    assert.deepEqual(await store.get(inTwo), inTwo);
  });

  test('a conversation is found and deleted by its channel and conversation ids alone, without its tenant id', async () => {
    const store = createStore();
    const stored = conversation('19:no-tenant-given@thread.v2', { tenantId: 'the-tenant' });
    await store.upsert(stored);
    assert.deepEqual(await store.get({ channelId: 'msteams', conversationId: stored.conversationId }), stored);
    assert.equal(await store.get({ channelId: 'msteams', conversationId: stored.conversationId, tenantId: 'another-tenant' }), undefined);
    assert.equal(await store.delete({ channelId: 'msteams', conversationId: stored.conversationId }), true);
    assert.equal(await store.get(stored), undefined);
  });

  test("listing a tenant page by page gives each of its conversations exactly once, from every partition, and none of another tenant's", async () => {
    const store = createStore();
    const mine = Array.from({ length: 60 }, (_, i) => `a:mine-${i}`);
    for (const id of mine) await store.upsert(conversation(id, { tenantId: 'big-tenant' }));
    for (let i = 0; i < 15; i++) await store.upsert(conversation(`a:theirs-${i}`, { tenantId: 'small-tenant' }));
    for (const pageSize of [1, 7, 1000]) {
      const listed: string[] = [];
      for await (const item of listAll(store, { tenantIds: ['big-tenant'] }, pageSize)) listed.push(item.conversationId);
      assert.deepEqual(listed.sort(), [...mine].sort(), `page size ${pageSize}`);
    }
  });

  test("a listing holds each tenant's conversations together, one tenant after the other", async () => {
    const store = createStore();
    for (let i = 0; i < 30; i++) await store.upsert(conversation(`a:c-${i}`, { tenantId: `tenant-${i % 3}` }));
    for (const filter of [undefined, { tenantIds: ['tenant-2', 'tenant-0', 'tenant-1', 'tenant-2'] }]) {
      const tenants: string[] = [];
      for await (const item of listAll(store, filter, 4)) tenants.push(item.tenantId);
      assert.equal(tenants.length, 30, JSON.stringify(filter));
      const runs = tenants.filter((tenant, i) => tenant !== tenants[i - 1]);
      assert.deepEqual([...runs].sort(), ['tenant-0', 'tenant-1', 'tenant-2'], JSON.stringify(filter));
    }
  });

  test('hostile tenant and channel ids round-trip, and each lists exactly its own conversations', async () => {
    const store = createStore();
    const all = hostileIds.flatMap((id, i) => [
      conversation(`by-tenant-${i}`, { tenantId: id }),
      conversation(`by-channel-${i}`, { channelId: id, tenantId: 'plain' }),
    ]);
    for (const item of all) await store.upsert(item);
    for (const item of all) assert.deepEqual(await store.get(item), item);
    for (const [i, id] of hostileIds.entries()) {
      assert.deepEqual(await listIds(store, { tenantIds: [id] }), [`by-tenant-${i}`], `tenant ${JSON.stringify(id.slice(0, 40))}`);
      assert.deepEqual(await listIds(store, { tenantIds: ['plain'], channelIds: [id] }), [`by-channel-${i}`], `channel ${JSON.stringify(id.slice(0, 40))}`);
      assert.deepEqual(await listIds(store, { channelIds: [id] }), [`by-channel-${i}`], `channel alone ${JSON.stringify(id.slice(0, 40))}`);
    }
  });

  test("a channel's team id and name read back, and a conversation stored without them reads back without them", async () => {
    const store = createStore();
    const channel = conversation('19:general@thread.tacv2', { conversationType: 'channel', teamId: '19:general@thread.tacv2', teamName: 'Finance' });
    const personal = conversation('a:personal');
    await store.upsert(channel);
    await store.upsert(personal);
    assert.deepEqual(await store.get(channel), channel);
    const read = await store.get(personal);
    assert.deepEqual(read, personal);
    assert.equal(read !== undefined && 'teamId' in read, false);
    assert.equal(read !== undefined && 'teamName' in read, false);
  });

  test('listing teams gives one entry per team with its name and General channel, and none for chats or channels without a team', async () => {
    const store = createStore();
    const general = conversation('19:team-a@thread.tacv2', { conversationType: 'channel', teamId: '19:team-a@thread.tacv2', teamName: 'Finance' });
    const otherChannel = conversation('19:a-news@thread.tacv2', {
      conversationType: 'channel',
      teamId: '19:team-a@thread.tacv2',
      teamName: 'Finance',
      updatedAt: new Date('2026-11-26T00:00:00.000Z'),
    });
    const teamB = conversation('19:b-ops@thread.tacv2', { conversationType: 'channel', teamId: '19:team-b@thread.tacv2', teamName: 'Accounting' });
    const teamC = conversation('19:team-c@thread.tacv2', { conversationType: 'channel', tenantId: 'tenant-2', teamId: '19:team-c@thread.tacv2', teamName: 'Sales' });
    for (const item of [general, otherChannel, teamB, teamC]) await store.upsert(item);
    await store.upsert(conversation('19:old-channel@thread.tacv2', { conversationType: 'channel' }));
    await store.upsert(conversation('19:group@thread.v2', { conversationType: 'groupChat' }));
    await store.upsert(conversation('a:personal'));

    const all = await store.listTeams();
    assert.deepEqual(
      all.map(({ tenantId, teamId, teamName, serviceUrl, conversation: { conversationId } }) => ({ tenantId, teamId, teamName, serviceUrl, conversationId })),
      [
        { tenantId: 'tenant-1', teamId: '19:team-b@thread.tacv2', teamName: 'Accounting', serviceUrl: teamB.serviceUrl, conversationId: teamB.conversationId },
        { tenantId: 'tenant-1', teamId: '19:team-a@thread.tacv2', teamName: 'Finance', serviceUrl: general.serviceUrl, conversationId: general.conversationId },
        { tenantId: 'tenant-2', teamId: '19:team-c@thread.tacv2', teamName: 'Sales', serviceUrl: teamC.serviceUrl, conversationId: teamC.conversationId },
      ],
    );
    assert.deepEqual((await store.listTeams('tenant-2')).map((team) => team.teamName), ['Sales']);
    assert.deepEqual(await store.listTeams('tenant-without-teams'), []);
  });

  const fixture: readonly StoredConversation[] = [
    conversation('c1', { tenantId: 't1', userId: 'u1', aadObjectId: 'a1', conversationType: 'personal' }),
    conversation('c2', { tenantId: 't1', userId: 'u2', aadObjectId: 'a2', conversationType: 'channel' }),
    conversation('c3', { tenantId: 't2', userId: 'u1', aadObjectId: '', conversationType: 'groupChat' }),
    conversation('c4', { channelId: 'emulator', tenantId: '', userId: 'u3', aadObjectId: 'a1', conversationType: '' }),
    conversation('c5', { channelId: 'slack', tenantId: "o'brien", userId: 'u4', aadObjectId: 'a4', conversationType: 'personal' }),
  ];
  const manyTenants = ['t1', ...Array.from({ length: 19 }, (_, i) => `other-tenant-${i}`)];
  const filterCases: ReadonlyArray<readonly [string, ConversationFilter, readonly string[]]> = [
    ['filtering by tenant id lists the conversations of that tenant', { tenantIds: ['t1'] }, ['c1', 'c2']],
    ['filtering by a tenant id containing a quote lists the conversations of that tenant', { tenantIds: ["o'brien"] }, ['c5']],
    ['filtering by user id matches the channel user id in 1:1 conversations, not group chats', { userIds: ['u1'] }, ['c1']],
    ['filtering by user id matches the AAD object id', { userIds: ['a1'] }, ['c1', 'c4']],
    ['filtering by channel id lists the conversations of those channels', { channelIds: ['emulator', 'slack'] }, ['c4', 'c5']],
    ['filtering by conversation type lists the conversations of that type', { conversationTypes: ['personal'] }, ['c1', 'c5']],
    ['filtering by conversation id lists those conversations and ignores unknown ids', { conversationIds: ['c2', 'c5', 'missing'] }, ['c2', 'c5']],
    ['filters on several fields list only the conversations matching all of them', { tenantIds: ['t1', 't2'], channelIds: ['msteams'], conversationTypes: ['personal', 'groupChat'] }, ['c1', 'c3']],
    ['filtering by an empty tenant id matches nothing, not the conversations without a tenant', { tenantIds: [''] }, []],
    ['filtering by an empty list of user ids matches nothing', { userIds: [] }, []],
    ['filtering by 20 tenant ids, more than one Azure query may compare, gives the same result as by the one that exists', { tenantIds: manyTenants }, ['c1', 'c2']],
    ['filtering by 20 tenant ids and a channel gives the same result as by the one tenant that exists', { tenantIds: manyTenants, channelIds: ['msteams'] }, ['c1', 'c2']],
    ['filtering by 8 user ids and a conversation type lists the conversations matching both', { userIds: ['u1', 'u2', 'u3', 'u4', 'x1', 'x2', 'x3', 'x4'], conversationTypes: ['personal'] }, ['c1', 'c5']],
  ];
  for (const [behaviour, filter, expected] of filterCases) {
    test(behaviour, async () => {
      const store = createStore();
      for (const item of fixture) await store.upsert(item);
      assert.deepEqual(await listIds(store, filter, 2), expected);
    });
  }
}
