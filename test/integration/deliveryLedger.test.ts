import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TableClient, type TableEntityResult } from '@azure/data-tables';
import { freePort, startAzurite, tableConnectionString } from '../../scripts/azurite';
import type { DeliveryLedger } from '../../shared/ledgers/deliveryLedgers';
import { deliveryRowKey, firstRevision, type DeliveryLedgerAccess, type DeliveryLedgerReading, type DeliveryLedgers } from '../../shared/ledgers/deliveryLedgers';
import { MemoryDeliveryLedgers } from '../../shared/ledgers/memoryDeliveryLedgers';
import { LedgerUnavailableError, TableDeliveryLedgers } from '../../shared/ledgers/tableDeliveryLedgers';
import { toKey } from '../../shared/storage/conversationKeys';
import { useAzurite } from '../support/testAzurite';
import { storageAt } from '../support/storageAt';

const azurite = useAzurite();
const connectionString = azurite.connectionString;
const freshTableName = (): string => azurite.freshTableName('deliveries');

const teamsChat = { channelId: 'msteams', conversationId: 'a:1Xyz-personal_chat;messageid=17' };
const teamsChannel = { channelId: 'msteams', conversationId: '19:abc@thread.tacv2;messageid=1700000000000' };
const hostile = { channelId: 'web/chat', conversationId: 'a/b\\c#d?e\u0001 é 😀' };

/** The fingerprint of the request claiming an id; tests of reuse pass another. */
const request = 'fingerprint-of-request-1';

/** Claims an id and releases the claim at once: enough to read and record. */
async function open(ledgers: DeliveryLedgers, id: string): Promise<DeliveryLedger> {
  const claim = await ledgers.claim(id, 60_000, request);
  assert.ok(claim.claimed, `expected to claim ${id}`);
  await claim.release();
  return claim.ledger;
}

function ledgerContract(create: () => DeliveryLedgers): void {
  test('a new notification id has delivered to nobody', async () => {
    const ledger = await open(create(), 'release-1');
    assert.equal(await ledger.wasDelivered(teamsChat), false);
  });

  test('a recorded delivery is remembered by a later open of the same id, and only for that id', async () => {
    const ledgers = create();
    const first = await open(ledgers, 'release-2');
    await first.recordDelivered(teamsChat);
    assert.equal(await first.wasDelivered(teamsChat), true);
    assert.equal(await first.wasDelivered(teamsChannel), false);

    const retry = await open(ledgers, 'release-2');
    assert.equal(await retry.wasDelivered(teamsChat), true);
    assert.equal(await retry.wasDelivered(teamsChannel), false);
    assert.equal(await (await open(ledgers, 'release-3')).wasDelivered(teamsChat), false);
  });

  test('recording the same delivery twice is not an error', async () => {
    const ledger = await open(create(), 'twice');
    await ledger.recordDelivered(teamsChannel);
    await ledger.recordDelivered(teamsChannel);
    assert.equal(await ledger.wasDelivered(teamsChannel), true);
  });

  test('ids and conversation ids with characters tables forbid work, and the same conversation id in another channel is another recipient', async () => {
    const ledgers = create();
    const ledger = await open(ledgers, 'id:with.dots_and-dashes');
    await ledger.recordDelivered(hostile);
    const again = await open(ledgers, 'id:with.dots_and-dashes');
    assert.equal(await again.wasDelivered(hostile), true);
    assert.equal(await again.wasDelivered({ channelId: 'msteams', conversationId: hostile.conversationId }), false);
  });

  test('a claimed id cannot be claimed again until its claim is released', async () => {
    const ledgers = create();
    const first = await ledgers.claim('busy', 60_000, request);
    assert.equal(first.claimed, true);
    assert.equal((await ledgers.claim('busy', 60_000, request)).claimed, false);
    assert.equal((await ledgers.claim('other', 60_000, request)).claimed, true, 'other ids are not affected');
    if (first.claimed) await first.release();
    const again = await ledgers.claim('busy', 60_000, request);
    assert.equal(again.claimed, true);
  });

  test('a claim whose lease lapsed can be taken over, and the old holder releasing it does not free the new claim', async () => {
    const ledgers = create();
    const crashed = await ledgers.claim('lapsed', 1, request);
    assert.ok(crashed.claimed);
    await delay(20);
    const takeover = await ledgers.claim('lapsed', 60_000, request);
    assert.equal(takeover.claimed, true);
    await crashed.release();
    assert.equal((await ledgers.claim('lapsed', 60_000, request)).claimed, false);
  });

  test('of claims racing for the same id, exactly one wins', async () => {
    const ledgers = create();
    const claims = await Promise.all(Array.from({ length: 8 }, () => ledgers.claim('race', 60_000, request)));
    assert.equal(claims.filter((claim) => claim.claimed).length, 1);
  });

  test('of claims racing for a lapsed id, exactly one wins', async () => {
    const ledgers = create();
    assert.ok((await ledgers.claim('race-lapsed', 1, request)).claimed);
    await delay(20);
    const claims = await Promise.all(Array.from({ length: 8 }, () => ledgers.claim('race-lapsed', 60_000, request)));
    assert.equal(claims.filter((claim) => claim.claimed).length, 1);
  });

  test('an id stays bound to the request that first claimed it: another request is refused as reused, running or released', async () => {
    const ledgers = create();
    const first = await ledgers.claim('bound', 60_000, request);
    assert.ok(first.claimed);
    assert.deepEqual(await ledgers.claim('bound', 60_000, 'another-request'), { claimed: false, reason: 'reused' });
    assert.deepEqual(await ledgers.claim('bound', 60_000, request), { claimed: false, reason: 'running' });
    await first.release();
    assert.deepEqual(await ledgers.claim('bound', 60_000, 'another-request'), { claimed: false, reason: 'reused' });
    assert.equal((await ledgers.claim('bound', 60_000, request)).claimed, true, 'the same request claims it again');
  });

  test('of different requests racing for a new id, exactly one wins and the others are told the id is reused', async () => {
    const ledgers = create();
    const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => ledgers.claim('race-reuse', 60_000, `request-${i}`)));
    assert.equal(claims.filter((claim) => claim.claimed).length, 1);
    assert.ok(claims.every((claim) => claim.claimed || claim.reason === 'reused'));
  });

  test('a very long conversation id is remembered under a hashed key', async () => {
    const long = { channelId: 'msteams', conversationId: `19:${'x'.repeat(2000)}@thread.tacv2` };
    const ledgers = create();
    await (await open(ledgers, 'long')).recordDelivered(long);
    assert.equal(await (await open(ledgers, 'long')).wasDelivered(long), true);
    assert.equal(await (await open(ledgers, 'long')).wasDelivered({ ...long, conversationId: `${long.conversationId}y` }), false);
  });
}

/** Ledgers opened by one writer (queued notifications): activity ids, revisions and the marks of passes. */
function openedLedgerContract(create: () => DeliveryLedgers & DeliveryLedgerAccess & DeliveryLedgerReading): void {
  test('each delivery is read back with the activity id recorded with it, and one recorded without an id reads as none', async () => {
    const ledgers = create();
    const writer = ledgers.open('queued\nids\ntenant-a', { groupWindowMs: 5 });
    await Promise.all([writer.recordDelivered(teamsChat, '1:activity-a'), writer.recordDelivered(teamsChannel), writer.recordDelivered(hostile, 'ac/t#1?')]);
    const entries = await ledgers.entries('queued\nids\ntenant-a');
    assert.equal(entries.size, 3);
    assert.equal(entries.get(deliveryRowKey(teamsChat))?.activityId, '1:activity-a');
    assert.equal(entries.get(deliveryRowKey(teamsChannel))?.activityId, undefined);
    assert.equal(entries.get(deliveryRowKey(hostile))?.activityId, 'ac/t#1?');
    assert.deepEqual([...(await ledgers.deliveredKeys('queued\nids\ntenant-a'))].sort(), [...entries.keys()].sort());
  });

  test('a delivery carries the revision its ledger was opened with, and the first revision when none was given', async () => {
    const ledgers = create();
    await ledgers.open('queued\nrev\ntenant-a').recordDelivered(teamsChat, 'first');
    await ledgers.open('queued\nrev\ntenant-a', { revision: 3 }).recordDelivered(teamsChannel, 'later');
    const entries = await ledgers.entries('queued\nrev\ntenant-a');
    assert.equal(entries.get(deliveryRowKey(teamsChat))?.revision, firstRevision);
    assert.equal(entries.get(deliveryRowKey(teamsChannel))?.revision, 3);
  });

  test("a pass's marks raise the revision a chat shows and name the pass, without adding deliveries", async () => {
    const ledgers = create();
    const name = 'queued\nmarks\ntenant-a';
    const writer = ledgers.open(name);
    await writer.recordDelivered(teamsChat, 'a');
    await writer.recordDelivered(teamsChannel, 'b');
    await ledgers.openMarks(name, { name: 'revision', revision: 2 }).record(teamsChat);
    await ledgers.openMarks(name, { name: 'recalled' }).record(teamsChannel);
    await ledgers.openMarks(name, { name: 'recalled' }).record(hostile);
    const entries = await ledgers.entries(name);
    assert.equal(entries.size, 2, 'a mark for a conversation never delivered is not a delivery');
    assert.equal(entries.get(deliveryRowKey(teamsChat))?.revision, 2);
    assert.deepEqual([...(entries.get(deliveryRowKey(teamsChat))?.marks ?? [])], ['revision']);
    assert.equal(entries.get(deliveryRowKey(teamsChannel))?.revision, firstRevision);
    assert.deepEqual([...(entries.get(deliveryRowKey(teamsChannel))?.marks ?? [])], ['recalled']);
    assert.equal(await ledgers.open(name).wasDelivered(hostile), false);
    assert.equal((await ledgers.deliveredKeys(name)).size, 2);
  });

  test("a person's delivery is read back with the chat it went to; a conversation's own delivery has none", async () => {
    const ledgers = create();
    const name = 'queued\npeople\ntenant-a';
    const person = { channelId: 'msteams', conversationId: 'person:aad-1' };
    const chat = { conversationId: 'a:1opened-chat_of-person;x', serviceUrl: 'https://smba.trafficmanager.net/emea/' };
    const writer = ledgers.open(name, { groupWindowMs: 5 });
    await Promise.all([writer.recordDelivered(person, '1700000000001', chat), writer.recordDelivered(teamsChannel, '1700000000002')]);
    const entries = await ledgers.entries(name);
    assert.deepEqual(entries.get(deliveryRowKey(person))?.chat, chat);
    assert.equal(entries.get(deliveryRowKey(person))?.activityId, '1700000000001');
    assert.equal(entries.get(deliveryRowKey(teamsChannel))?.chat, undefined);
    await ledgers.openMarks(name, { name: 'recalled' }).record(person);
    assert.deepEqual((await ledgers.entries(name)).get(deliveryRowKey(person))?.chat, chat, 'a mark keeps the chat');
  });

  test("the ids of messages a pass sent (reminders) read back with the chat's entry; a mark without one adds none", async () => {
    const ledgers = create();
    const name = 'queued\nreminded\ntenant-a';
    await ledgers.open(name).recordDelivered(teamsChat, '1700000000001');
    await ledgers.openMarks(name, { name: 'remind-a' }).record(teamsChat, '1700000000005');
    await ledgers.openMarks(name, { name: 'remind-b' }).record(teamsChat, '1700000000009');
    await ledgers.openMarks(name, { name: 'revision', revision: 2 }).record(teamsChat);
    const entry = (await ledgers.entries(name)).get(deliveryRowKey(teamsChat));
    assert.deepEqual([...(entry?.laterActivityIds ?? [])].sort(), ['1700000000005', '1700000000009']);
    assert.equal(entry?.activityId, '1700000000001');
  });

  test("a claimed ledger records a person's chat too", async () => {
    const ledgers = create();
    const person = { channelId: 'msteams', conversationId: 'person:aad-2' };
    const chat = { conversationId: 'a:1claimed-chat', serviceUrl: 'https://smba.trafficmanager.net/amer/' };
    await (await open(ledgers, 'claimed-chats')).recordDelivered(person, '1700000000003', chat);
    assert.deepEqual((await ledgers.entries('claimed-chats')).get(deliveryRowKey(person))?.chat, chat);
  });

  test('a claimed ledger records the activity id too', async () => {
    const ledgers = create();
    await (await open(ledgers, 'claimed-ids')).recordDelivered(teamsChat, 'claimed-activity');
    assert.equal((await ledgers.entries('claimed-ids')).get(deliveryRowKey(teamsChat))?.activityId, 'claimed-activity');
  });
}

describe('MemoryDeliveryLedgers', () => {
  ledgerContract(() => new MemoryDeliveryLedgers());
  openedLedgerContract(() => new MemoryDeliveryLedgers());
});

describe('TableDeliveryLedgers', () => {
  ledgerContract(() => new TableDeliveryLedgers(storageAt(connectionString()), { tableName: freshTableName() }));
  openedLedgerContract(() => new TableDeliveryLedgers(storageAt(connectionString()), { tableName: freshTableName() }));

  test('creates its table on first use and keeps one row per delivery and one lease row, partitioned by notification id', async () => {
    const tableName = freshTableName();
    const ledgers = new TableDeliveryLedgers(storageAt(connectionString()), { tableName });
    const ledger = await open(ledgers, 'weekly/digest');
    await ledger.recordDelivered(teamsChat);
    await ledger.recordDelivered(teamsChannel);

    const client = TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
    type Row = TableEntityResult<{ channelId: string; conversationId: string; deliveredAt: Date; expiresAt?: Date }>;
    const rows: Row[] = [];
    const leases: Row[] = [];
    for await (const row of client.listEntities<Row>()) {
      (row.rowKey === '~lease' ? leases : rows).push(row);
    }
    assert.equal(leases.length, 1, 'the released lease row stays, binding the id to its request');
    assert.ok(leases[0]?.expiresAt instanceof Date && leases[0].expiresAt.getTime() <= Date.now(), 'and it has lapsed');
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.partitionKey, toKey('weekly/digest'));
      assert.equal(row.rowKey, deliveryRowKey(row));
      assert.ok(row.deliveredAt instanceof Date);
    }
    assert.deepEqual(rows.map((row) => row.conversationId).sort(), [teamsChat.conversationId, teamsChannel.conversationId].sort());
  });

  test('an opened ledger (one writer) records deliveries made together in a few rows, and a later opening skips exactly those', async () => {
    const tableName = freshTableName();
    const ledgers = new TableDeliveryLedgers(storageAt(connectionString()), { tableName });
    const recipients = Array.from({ length: 150 }, (_, i) => ({ channelId: 'msteams', conversationId: `a:1recipient-${i}` }));
    const writer = ledgers.open('queued\nweekly\ntenant-a');
    await Promise.all(recipients.map((recipient) => writer.recordDelivered(recipient)));
    await writer.recordDelivered(hostile);

    const redo = ledgers.open('queued\nweekly\ntenant-a');
    for (const recipient of [...recipients, hostile]) assert.equal(await redo.wasDelivered(recipient), true, recipient.conversationId);
    assert.equal(await redo.wasDelivered(teamsChat), false);
    assert.equal(await ledgers.open('queued\nweekly\ntenant-b').wasDelivered(recipients[0] ?? teamsChat), false, 'another tenant is another ledger');

    const client = TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
    let rows = 0;
    for await (const row of client.listEntities()) rows += row.partitionKey === toKey('queued\nweekly\ntenant-a') ? 1 : 0;
    assert.ok(rows <= 3, `151 deliveries in ${rows} rows`);
  });

  test("people's deliveries with their chats (Teams-length ids) take as few rows as conversations' deliveries", async () => {
    const tableName = freshTableName();
    const ledgers = new TableDeliveryLedgers(storageAt(connectionString()), { tableName });
    const name = 'queued\npeople-rows\ntenant-a';
    const writer = ledgers.open(name);
    const serviceUrl = 'https://smba.trafficmanager.net/emea/00000000-0000-4000-8000-000000000abc/';
    const people = Array.from({ length: 300 }, (_, i) => ({ channelId: 'msteams', conversationId: `person:${String(i).padStart(8, '0')}-1111-4222-8333-444444444444` }));
    // A real personal chat id: `a:1` and about 120 characters.
    const chatOf = (i: number): { conversationId: string; serviceUrl: string } => ({ conversationId: `a:1${'Xq9_-'.repeat(24)}${i}`, serviceUrl });
    await Promise.all(people.map((person, i) => writer.recordDelivered(person, `17000000${String(i).padStart(5, '0')}`, chatOf(i))));

    const client = TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
    let rows = 0;
    for await (const row of client.listEntities()) rows += row.partitionKey === toKey(name) ? 1 : 0;
    assert.ok(rows <= 3, `300 deliveries in ${rows} rows`);
    const entries = await ledgers.entries(name);
    assert.deepEqual(people.filter((person, i) => entries.get(deliveryRowKey(person))?.chat?.conversationId !== chatOf(i).conversationId), []);
  });

  test('a ledger whose storage does not answer rejects with LedgerUnavailableError', async () => {
    const ledgers = new TableDeliveryLedgers(storageAt(tableConnectionString(await freePort())), { tableName: freshTableName(), maxRetries: 0 });
    await assert.rejects(ledgers.claim('any', 60_000, request), (error: unknown) => {
      assert.ok(error instanceof LedgerUnavailableError);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });

  test('a ledger that could not create its table tries again on the next open', async () => {
    const port = await freePort();
    const ledgers = new TableDeliveryLedgers(storageAt(tableConnectionString(port)), { tableName: freshTableName(), maxRetries: 0 });
    await assert.rejects(ledgers.claim('late', 60_000, request), LedgerUnavailableError);
    const late = await startAzurite({ tablePort: port });
    try {
      const ledger = await open(ledgers, 'late');
      await ledger.recordDelivered(teamsChat);
      assert.equal(await (await open(ledgers, 'late')).wasDelivered(teamsChat), true);
    } finally {
      await late.stop();
    }
  });
});
