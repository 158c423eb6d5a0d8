import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReadReceiptStore } from '../../shared/engagement/readReceiptStore';
import { hostileIds } from './hostileIds';

const chat = (conversationId: string) => ({ channelId: 'msteams', conversationId });
const at = new Date('2026-12-07T09:00:00Z');

/** What every ReadReceiptStore does, the memory one and the table one alike. */
export function readReceiptStoreContract(newStore: () => ReadReceiptStore): void {
  test('a receipt marks every delivery of the chat up to the last message read, and only those', async () => {
    const store = newStore();
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:ada'), activityId: '1700000000100' }]);
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-2', conversation: chat('a:ada'), activityId: '1700000000200' }]);
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-3', conversation: chat('a:ada'), activityId: '1700000000300' }]);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '1700000000250', at }), 2);
    assert.deepEqual([await store.count('n-1'), await store.count('n-2'), await store.count('n-3')], [1, 1, 0]);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '1700000000300', at }), 1);
    assert.equal(await store.count('n-3'), 1);
  });

  test('message ids are compared as numbers, not as text', async () => {
    const store = newStore();
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:ada'), activityId: '999' }]);
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-2', conversation: chat('a:ada'), activityId: '10000' }]);
    // As text, "999" > "1000" and "10000" < "1000"; as numbers only 999 is read.
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '1000', at }), 1);
    assert.deepEqual([await store.count('n-1'), await store.count('n-2')], [1, 0]);
  });

  test('a repeated receipt, or one from another chat, marks nothing more', async () => {
    const store = newStore();
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:ada'), activityId: '100' }]);
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:bob'), activityId: '101' }]);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '500', at }), 1);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '500', at }), 0);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:cy'), lastReadMessageId: '500', at }), 0);
    assert.equal(await store.count('n-1'), 1);
    assert.deepEqual((await store.list('n-1')).map((mark) => [mark.conversation.conversationId, mark.readAt.toISOString()]), [['a:ada', at.toISOString()]]);
  });

  test('receipts from many chats at once are each counted once', async () => {
    const store = newStore();
    const chats = Array.from({ length: 30 }, (_, index) => `a:p${index}`);
    for (const [index, id] of chats.entries()) await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat(id), activityId: String(1000 + index) }]);
    const marked = await Promise.all(chats.map((id) => store.receipt({ tenantId: 't-1', conversation: chat(id), lastReadMessageId: '5000', at })));
    assert.equal(marked.reduce((sum, count) => sum + count, 0), 30);
    assert.equal(await store.count('n-1'), 30);
  });

  test('a batch of deliveries to many chats, written in one call with a repeat, is marked chat by chat', async () => {
    const store = newStore();
    const chats = Array.from({ length: 250 }, (_, index) => `a:batch${index}`);
    const batch = chats.flatMap((id, index) => ['n-1', 'n-2'].map((notificationId) => ({ tenantId: 't-1', notificationId, conversation: chat(id), activityId: String(1000 + index) })));
    await store.recordSent([...batch, batch[0] as (typeof batch)[number]]);
    for (const id of chats.slice(0, 120)) assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat(id), lastReadMessageId: '5000', at }), 2);
    assert.deepEqual([await store.count('n-1'), await store.count('n-2')], [120, 120]);
  });

  test("a chat's deliveries are its tenant's: a receipt naming another tenant marks nothing", async () => {
    const store = newStore();
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:ada'), activityId: '100' }]);
    assert.equal(await store.receipt({ tenantId: 't-2', conversation: chat('a:ada'), lastReadMessageId: '500', at }), 0);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '500', at }), 1);
  });

  test('an id that is not a number is never taken as read', async () => {
    const store = newStore();
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:ada'), activityId: 'activity-7' }]);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '99999999999999', at }), 0);
    assert.equal(await store.count('n-1'), 0);
  });

  test('any notification id and conversation id round-trips', async () => {
    const store = newStore();
    for (const id of hostileIds) {
      await store.recordSent([{ tenantId: 't-1', notificationId: id, conversation: chat(id), activityId: '42' }]);
      assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat(id), lastReadMessageId: '42', at }), 1, JSON.stringify(id));
      assert.equal((await store.list(id))[0]?.conversation.conversationId, id);
    }
  });

  test("removing a notification's read marks leaves the others", async () => {
    const store = newStore();
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat('a:ada'), activityId: '1' }]);
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-2', conversation: chat('a:ada'), activityId: '2' }]);
    await store.receipt({ tenantId: 't-1', conversation: chat('a:ada'), lastReadMessageId: '2', at });
    while ((await store.remove('n-1', 100)) > 0);
    assert.equal(await store.count('n-1'), 0);
    assert.deepEqual(await store.list('n-1'), []);
    assert.equal(await store.count('n-2'), 1);
  });

  test("removing a notification also takes it out of the unread index of chats that never sent a receipt, within each call's budget", async () => {
    const store = newStore();
    for (const person of ['a:ada', 'a:bob', 'a:cy']) await store.recordSent([{ tenantId: 't-1', notificationId: 'n-1', conversation: chat(person), activityId: '5' }]);
    await store.recordSent([{ tenantId: 't-1', notificationId: 'n-2', conversation: chat('a:bob'), activityId: '6' }]);
    let calls = 0;
    for (let removed = -1; removed !== 0; calls += 1) {
      removed = await store.remove('n-1', 3);
      assert.ok(removed <= 3);
    }
    assert.ok(calls >= 3, `three chats in pairs of rows need several calls of 3, took ${calls}`);
    // A receipt arriving afterwards finds nothing of n-1 left to mark, and still marks n-2.
    for (const person of ['a:ada', 'a:cy']) assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat(person), lastReadMessageId: '9', at }), 0);
    assert.equal(await store.receipt({ tenantId: 't-1', conversation: chat('a:bob'), lastReadMessageId: '9', at }), 1);
    assert.equal(await store.count('n-1'), 0);
    assert.equal(await store.count('n-2'), 1);
  });
}
