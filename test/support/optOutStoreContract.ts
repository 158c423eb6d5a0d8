import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OptOutFilter } from '../../shared/engagement/optOutFilter';
import type { OptOutStore, Person } from '../../shared/engagement/optOutStore';
import { conversation } from './conversationStoreContract';
import { hostileIds } from './hostileIds';

const ada: Person = { tenantId: 'tenant-1', channelId: 'msteams', userId: '29:ada', aadObjectId: 'aad-ada' };

/** What every OptOutStore does, the memory one and the table one alike. */
export function optOutStoreContract(newStore: () => OptOutStore): void {
  test('a person who opted out is opted out, and opted in again is not', async () => {
    const store = newStore();
    assert.equal(await store.isOptedOut(ada), false);
    assert.equal(await store.optOut(ada), true);
    assert.equal(await store.isOptedOut(ada), true);
    assert.equal(await store.optIn(ada), true);
    assert.equal(await store.isOptedOut(ada), false);
    assert.equal(await store.optIn(ada), false, 'opting in twice is not an error');
  });

  test('opting out twice keeps one opt-out and says the second changed nothing', async () => {
    const store = newStore();
    assert.equal(await store.optOut(ada), true);
    assert.equal(await store.optOut(ada), false);
    assert.equal((await store.tenant('tenant-1')).size, 1);
  });

  test("a tenant's set covers the person's personal chats by AAD object id, and never a group chat or a channel", async () => {
    const store = newStore();
    await store.optOut(ada);
    const set = await store.tenant('tenant-1');
    assert.equal(set.covers(conversation('a:1', { aadObjectId: 'aad-ada', userId: '29:ada-elsewhere' })), true);
    assert.equal(set.covers(conversation('a:2', { aadObjectId: 'aad-bob', userId: '29:bob' })), false);
    assert.equal(set.covers(conversation('19:g', { aadObjectId: 'aad-ada', userId: '29:ada', conversationType: 'groupChat' })), false);
    assert.equal(set.covers(conversation('19:c', { aadObjectId: 'aad-ada', userId: '29:ada', conversationType: 'channel' })), false);
    assert.equal((await store.tenant('tenant-2')).covers(conversation('a:1', { tenantId: 'tenant-2', aadObjectId: 'aad-ada' })), false, 'opt-outs are per tenant');
  });

  test('without an AAD object id a person is known by channel and user id', async () => {
    const store = newStore();
    const emulatorUser: Person = { tenantId: '', channelId: 'emulator', userId: 'user-1', aadObjectId: '' };
    await store.optOut(emulatorUser);
    const set = await store.tenant('');
    assert.equal(set.covers(conversation('c1', { channelId: 'emulator', tenantId: '', userId: 'user-1', aadObjectId: '', conversationType: '' })), true);
    assert.equal(set.covers(conversation('c2', { channelId: 'webchat', tenantId: '', userId: 'user-1', aadObjectId: '', conversationType: '' })), false);
    assert.equal(await store.optIn(emulatorUser), true);
  });

  test('"start" with an AAD object id also removes an opt-out recorded before the id was known', async () => {
    const store = newStore();
    await store.optOut({ ...ada, aadObjectId: '' });
    assert.equal(await store.isOptedOut(ada), true);
    assert.equal(await store.optIn(ada), true);
    assert.equal(await store.isOptedOut({ ...ada, aadObjectId: '' }), false);
  });

  test('any tenant and user id works as a key', async () => {
    const store = newStore();
    for (const id of hostileIds) {
      const person: Person = { tenantId: id, channelId: 'msteams', userId: id, aadObjectId: '' };
      await store.optOut(person);
      assert.equal((await store.tenant(id)).covers(conversation('a:x', { tenantId: id, userId: id, aadObjectId: '' })), true, JSON.stringify(id));
    }
  });

  test('a filter reads each tenant once however many recipients it checks', async () => {
    const store = newStore();
    await store.optOut(ada);
    let reads = 0;
    const filter = new OptOutFilter({ tenant: (tenantId) => ((reads += 1), store.tenant(tenantId)) });
    const checks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => filter.isOptedOut(conversation(`a:${i}`, { tenantId: `tenant-${i % 2}`, aadObjectId: i === 1 ? 'aad-ada' : `aad-${i}` }))),
    );
    assert.deepEqual(checks.map((skipped, i) => (skipped ? i : -1)).filter((i) => i >= 0), [1]);
    assert.equal(reads, 2);
  });
}
