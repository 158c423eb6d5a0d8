import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Acknowledgement, AcknowledgementStore } from '../../shared/engagement/acknowledgementStore';
import { hostileIds } from './hostileIds';

function press(notificationId: string, person: string, at = new Date('2026-12-07T08:14:00Z'), aad = true): Acknowledgement {
  return {
    notificationId,
    person: { tenantId: 'tenant-1', channelId: 'msteams', userId: `29:${person}`, aadObjectId: aad ? `aad-${person}` : '' },
    conversation: { channelId: 'msteams', conversationId: `a:${person}` },
    at,
    offsetMinutes: 60,
  };
}

/** What every AcknowledgementStore does, the memory one and the table one alike. */
export function acknowledgementStoreContract(newStore: () => AcknowledgementStore): void {
  test('a press is recorded once; a second press returns the first, unchanged', async () => {
    const store = newStore();
    const first = await store.acknowledge(press('n-1', 'ada'));
    assert.equal(first.first, true);
    const again = await store.acknowledge({ ...press('n-1', 'ada', new Date('2026-12-07T09:00:00Z')), offsetMinutes: undefined });
    assert.equal(again.first, false);
    assert.equal(again.record.acknowledgedAt.toISOString(), '2026-12-07T08:14:00.000Z');
    assert.equal(again.record.offsetMinutes, 60);
    assert.equal(await store.count('n-1'), 1);
  });

  test('counts and lists each person once per notification, notifications apart', async () => {
    const store = newStore();
    for (const person of ['ada', 'bob', 'cy']) await store.acknowledge(press('n-1', person));
    await store.acknowledge(press('n-1', 'bob'));
    await store.acknowledge(press('n-2', 'ada'));
    assert.equal(await store.count('n-1'), 3);
    assert.equal(await store.count('n-2'), 1);
    assert.equal(await store.count('n-3'), 0);
    const listed = await store.list('n-1');
    assert.deepEqual(listed.map((record) => record.personKey).sort(), ['aad:aad-ada', 'aad:aad-bob', 'aad:aad-cy']);
    assert.deepEqual(listed.map((record) => record.conversation.conversationId).sort(), ['a:ada', 'a:bob', 'a:cy']);
  });

  test('people pressing at the same moment are each counted once', async () => {
    const store = newStore();
    const people = Array.from({ length: 25 }, (_, index) => `p${index}`);
    const results = await Promise.all([...people, ...people.slice(0, 5)].map((person) => store.acknowledge(press('n-1', person))));
    assert.equal(results.filter((result) => result.first).length, 25);
    assert.equal(await store.count('n-1'), 25);
    assert.equal((await store.list('n-1')).length, 25);
  });

  test('without an AAD object id a person is known by channel and user id', async () => {
    const store = newStore();
    await store.acknowledge(press('n-1', 'ada', undefined, false));
    assert.equal((await store.acknowledge(press('n-1', 'ada', undefined, false))).first, false);
    assert.deepEqual((await store.list('n-1')).map((record) => record.personKey), ['user:msteams\n29:ada']);
  });

  test('any notification id and conversation id round-trips', async () => {
    const store = newStore();
    for (const id of hostileIds) {
      await store.acknowledge({ ...press(id, 'ada'), conversation: { channelId: 'msteams', conversationId: id } });
      assert.equal(await store.count(id), 1, JSON.stringify(id));
      assert.equal((await store.list(id))[0]?.conversation.conversationId, id);
    }
  });

  test("removing a notification's acknowledgements goes by budget and leaves the others", async () => {
    const store = newStore();
    for (const person of ['ada', 'bob', 'cy']) await store.acknowledge(press('n-1', person));
    await store.acknowledge(press('n-2', 'ada'));
    const firstRun = await store.remove('n-1', 2);
    assert.equal(firstRun, 2);
    let total = firstRun;
    for (let removed = firstRun; removed > 0; total += removed) removed = await store.remove('n-1', 2);
    assert.ok(total >= 3);
    assert.deepEqual(await store.list('n-1'), []);
    assert.equal(await store.count('n-1'), 0);
    assert.equal(await store.count('n-2'), 1);
  });
}
