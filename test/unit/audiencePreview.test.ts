import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { FakeClock } from '../../shared/clock';
import { previewAudience } from '../../shared/notifications/audiencePreview';
import type { ConversationStore, ListOptions, StoredConversation } from '../../shared/storage/conversationStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { storedTeamsConversation } from '../support/storedConversations';

function conversation(id: string, tenant: string, type: string): StoredConversation {
  return storedTeamsConversation({ id, tenant, type });
}

/** t1: 3 personal chats and a group chat; t2: a channel and a personal chat; t3: 1 personal chat. */
async function seededStore(): Promise<MemoryConversationStore> {
  const store = new MemoryConversationStore();
  const rows = [
    conversation('a:1', 't1', 'personal'),
    conversation('a:2', 't1', 'personal'),
    conversation('a:3', 't1', 'personal'),
    conversation('19:g1@thread.v2', 't1', 'groupChat'),
    conversation('19:c1@thread.tacv2', 't2', 'channel'),
    conversation('a:4', 't2', 'personal'),
    conversation('a:5', 't3', 'personal'),
  ];
  for (const row of rows) await store.upsert(row);
  return store;
}

const options = { clock: new FakeClock(), timeBudgetMs: 20_000 };

describe('previewAudience', () => {
  it('counts every stored conversation when there is no target, by tenant and by conversation type', async () => {
    const preview = await previewAudience(await seededStore(), undefined, options);

    assert.deepEqual(preview, {
      matched: 7,
      complete: true,
      byConversationType: { personal: 5, groupChat: 1, channel: 1 },
      tenantCount: 3,
      tenants: [
        { tenantId: 't1', matched: 4, byConversationType: { personal: 3, groupChat: 1 } },
        { tenantId: 't2', matched: 2, byConversationType: { channel: 1, personal: 1 } },
        { tenantId: 't3', matched: 1, byConversationType: { personal: 1 } },
      ],
    });
  });

  it('counts only what the target matches, as a send would', async () => {
    const preview = await previewAudience(await seededStore(), { tenantIds: ['t1', 't2'], conversationTypes: ['personal'] }, options);

    assert.equal(preview.matched, 4);
    assert.deepEqual(preview.byConversationType, { personal: 4 });
    assert.deepEqual(
      preview.tenants.map((tenant) => [tenant.tenantId, tenant.matched]),
      [
        ['t1', 3],
        ['t2', 1],
      ],
    );
  });

  it('answers zero, complete, when nothing matches', async () => {
    const preview = await previewAudience(await seededStore(), { tenantIds: ['nobody'] }, options);
    assert.deepEqual(preview, { matched: 0, complete: true, byConversationType: {}, tenantCount: 0, tenants: [] });
  });

  it('reads every page of a store larger than one page', async () => {
    const store = new MemoryConversationStore();
    for (let index = 0; index < 1_234; index++) await store.upsert(conversation(`a:${index}`, `t${index % 7}`, 'personal'));
    const pages: ListOptions[] = [];
    const counting: ConversationStore = Object.assign(Object.create(store) as ConversationStore, {
      list: (listOptions: ListOptions) => {
        pages.push(listOptions);
        return store.list(listOptions);
      },
    });

    const preview = await previewAudience(counting, undefined, { ...options, pageSize: 100 });

    assert.equal(preview.matched, 1_234);
    assert.equal(preview.tenantCount, 7);
    assert.equal(pages.length, 13);
    assert.ok(pages.every((page) => page.pageSize === 100));
  });

  it('lists the largest tenants first, at most the number asked for, and still counts them all', async () => {
    const preview = await previewAudience(await seededStore(), undefined, { ...options, maxTenantsListed: 2 });

    assert.equal(preview.tenantCount, 3);
    assert.equal(preview.matched, 7);
    assert.deepEqual(
      preview.tenants.map((tenant) => tenant.tenantId),
      ['t1', 't2'],
    );
  });

  it('stops at its time budget and says the count is incomplete', async () => {
    const store = new MemoryConversationStore();
    for (let index = 0; index < 50; index++) await store.upsert(conversation(`a:${index}`, 't1', 'personal'));
    const clock = new FakeClock();
    const slow: ConversationStore = Object.assign(Object.create(store) as ConversationStore, {
      list: async (listOptions: ListOptions) => {
        await clock.advance(1_000);
        return store.list(listOptions);
      },
    });

    const preview = await previewAudience(slow, undefined, { clock, timeBudgetMs: 3_000, pageSize: 10 });

    assert.equal(preview.complete, false);
    assert.equal(preview.matched, 30);
  });
});
