import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { freePort, startAzurite, tableConnectionString } from '../../scripts/azurite';
import { isLegacyPartitionKey, keyOf, legacyKeyOf } from '../../shared/storage/conversationKeys';
import { listAll, type StoredConversation } from '../../shared/storage/conversationStore';
import { hostileIds } from '../support/hostileIds';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { StoreUnavailableError, TableConversationStore } from '../../shared/storage/tableConversationStore';
import { conversation, conversationStoreContract } from '../support/conversationStoreContract';
import { recordingLogger } from '../support/recordingLogger';
import { useAzurite } from '../support/testAzurite';
import { storageAt } from '../support/storageAt';

const azurite = useAzurite();
const connectionString = azurite.connectionString;
const freshTableName = (): string => azurite.freshTableName('conversations');

describe('MemoryConversationStore', () => {
  conversationStoreContract(() => new MemoryConversationStore());
});

describe('TableConversationStore', () => {
  conversationStoreContract(() => new TableConversationStore(storageAt(connectionString()), freshTableName()));

  test('a store whose storage does not answer rejects with StoreUnavailableError', async () => {
    const deadEnd = tableConnectionString(await freePort());
    const store = new TableConversationStore(storageAt(deadEnd), freshTableName(), undefined, { maxRetries: 0 });
    await assert.rejects(store.upsert(conversation('c1')), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.ok(error.cause instanceof Error);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
    await assert.rejects(store.list(), StoreUnavailableError);
  });

  test('a store that could not create its table tries again on the next call', async () => {
    const port = await freePort();
    const store = new TableConversationStore(storageAt(tableConnectionString(port)), freshTableName(), undefined, { maxRetries: 0 });
    await assert.rejects(store.upsert(conversation('c1')), StoreUnavailableError);
    const late = await startAzurite({ tablePort: port });
    try {
      await store.upsert(conversation('c1'));
      assert.equal((await store.get(conversation('c1')))?.conversationId, 'c1');
    } finally {
      await late.stop();
    }
  });

  test('a row whose reference is not JSON is skipped with a warning and the rest is listed', async () => {
    const tableName = freshTableName();
    const logger = recordingLogger();
    const store = new TableConversationStore(storageAt(connectionString()), tableName, logger);
    await store.upsert(conversation('good'));
    const raw = TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
    await raw.upsertEntity({ ...keyOf(conversation('broken')), ...conversation('broken'), reference: '{not json' }, 'Replace');

    const page = await store.list();
    assert.deepEqual(page.items.map((item) => item.conversationId), ['good']);
    assert.equal(logger.lines('warn').length, 1);
    assert.match(logger.lines('warn')[0] ?? '', /not valid JSON/);
    assert.equal(await store.get(conversation('broken')), undefined);
  });

  test('get ignores a row whose stored conversation id is not the one asked for', async () => {
    const tableName = freshTableName();
    const store = new TableConversationStore(storageAt(connectionString()), tableName);
    const asked = conversation('x'.repeat(2000));
    // What a hash collision of two long ids would look like: another id under the same keys.
    const raw = TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
    await raw.createTable();
    const other = conversation('y'.repeat(2000));
    await raw.upsertEntity({ ...keyOf(asked), ...other, reference: JSON.stringify(other.reference) }, 'Replace');
    assert.equal(await store.get(asked), undefined);
  });

  describe('rows saved under the first key scheme (PartitionKey = channel id)', () => {
    const rawTable = async (tableName: string): Promise<TableClient> => {
      const raw = TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
      await raw.createTable();
      return raw;
    };
    /** A row as the previous version of the store wrote it. */
    const saveLegacy = async (raw: TableClient, item: StoredConversation, keys = legacyKeyOf(item)): Promise<void> => {
      const { reference, ...columns } = item;
      await raw.upsertEntity({ ...keys, ...columns, reference: JSON.stringify(reference) }, 'Replace');
    };
    const rowsOf = async (raw: TableClient): Promise<{ partitionKey: string; conversationId: unknown; userId: unknown }[]> => {
      const rows = [];
      for await (const row of raw.listEntities()) rows.push({ partitionKey: row.partitionKey ?? '', conversationId: row.conversationId, userId: row.userId });
      return rows;
    };

    test('are listed by tenant and then live only under the current keys', async () => {
      const tableName = freshTableName();
      const raw = await rawTable(tableName);
      const old = Array.from({ length: 30 }, (_, i) => conversation(`a:old-${i}`, { tenantId: i % 2 === 0 ? 't-even' : 't-odd' }));
      for (const item of old) await saveLegacy(raw, item);
      const logger = recordingLogger();
      const store = new TableConversationStore(storageAt(connectionString()), tableName, logger);

      const listed: string[] = [];
      for await (const item of listAll(store, { tenantIds: ['t-even'] }, 4)) listed.push(item.conversationId);
      assert.deepEqual(listed.sort(), old.filter((_, i) => i % 2 === 0).map((item) => item.conversationId).sort());
      const rows = await rowsOf(raw);
      assert.equal(rows.length, 30);
      assert.deepEqual(rows.filter((row) => isLegacyPartitionKey(row.partitionKey)), []);
      for (const item of old) assert.deepEqual(await store.get(item), item);
      assert.match(logger.lines('log').join('\n'), /moved 30 reference\(s\)/);
    });

    test('are found by get and removed by delete before anything was listed', async () => {
      const tableName = freshTableName();
      const raw = await rawTable(tableName);
      const item = conversation('a:old-get');
      await saveLegacy(raw, item);
      const store = new TableConversationStore(storageAt(connectionString()), tableName);
      assert.deepEqual(await store.get(item), item);
      assert.equal(await store.delete(item), true);
      assert.equal(await store.get(item), undefined);
      assert.deepEqual(await rowsOf(raw), []);
    });

    test('an upsert of a conversation saved under the old key leaves one row, the new version', async () => {
      const tableName = freshTableName();
      const raw = await rawTable(tableName);
      await saveLegacy(raw, conversation('a:old-upsert', { userId: 'before' }));
      const store = new TableConversationStore(storageAt(connectionString()), tableName);
      const latest = { ...conversation('a:old-upsert', { userId: 'after' }), updatedAt: new Date('2026-12-01T00:00:00.000Z') };
      await store.upsert(latest);
      await store.migrated();
      assert.deepEqual(await rowsOf(raw), [{ partitionKey: keyOf(latest).partitionKey, conversationId: 'a:old-upsert', userId: 'after' }]);
      const all = [];
      for await (const item of listAll(store)) all.push(item);
      assert.deepEqual(all, [latest]);
    });

    test('an insert of a conversation saved under the old key says it was already stored', async () => {
      const tableName = freshTableName();
      const raw = await rawTable(tableName);
      await saveLegacy(raw, conversation('a:old-insert'));
      const store = new TableConversationStore(storageAt(connectionString()), tableName);
      assert.equal(await store.insert(conversation('a:old-insert')), false);
    });

    test('a migration cut between copy and delete is finished by the next one, keeping the newer of the two rows', async () => {
      const tableName = freshTableName();
      const raw = await rawTable(tableName);
      // Left by a crash: the copy under the current key, the old row not yet deleted.
      const copied = conversation('a:copied');
      await saveLegacy(raw, copied);
      await saveLegacy(raw, copied, keyOf(copied));
      // The bot saved this one again under the current key after the old version wrote it.
      const older = conversation('a:saved-again', { userId: 'older' });
      const newer = { ...conversation('a:saved-again', { userId: 'newer' }), updatedAt: new Date('2026-12-01T00:00:00.000Z') };
      await saveLegacy(raw, older);
      await saveLegacy(raw, newer, keyOf(newer));
      // And the reverse: the old row is the newer one (an older app instance wrote it last).
      const staleCopy = conversation('a:old-is-newer', { userId: 'stale' });
      const lastWritten = { ...conversation('a:old-is-newer', { userId: 'last' }), updatedAt: new Date('2026-12-02T00:00:00.000Z') };
      await saveLegacy(raw, lastWritten);
      await saveLegacy(raw, staleCopy, keyOf(staleCopy));

      const store = new TableConversationStore(storageAt(connectionString()), tableName);
      await store.migrated();
      const rows = (await rowsOf(raw)).sort((a, b) => String(a.conversationId).localeCompare(String(b.conversationId)));
      assert.deepEqual(rows.map((row) => [row.conversationId, row.userId, isLegacyPartitionKey(row.partitionKey)]), [
        ['a:copied', 'user-1', false],
        ['a:old-is-newer', 'last', false],
        ['a:saved-again', 'newer', false],
      ]);
    });

    test('more rows than a page of the migration, hostile ids among them, are all moved and listed exactly once', async () => {
      const tableName = freshTableName();
      const raw = await rawTable(tableName);
      const old = [
        ...Array.from({ length: 1_100 }, (_, i) => conversation(`a:bulk-${i}`, { tenantId: 'bulk' })),
        ...hostileIds.map((id) => conversation(id, { tenantId: 'bulk' })),
        ...hostileIds.map((id, i) => conversation(`hostile-channel-${i}`, { channelId: id, tenantId: 'bulk' })),
      ];
      const lanes = Array.from({ length: 16 }, async (_, lane) => {
        for (let i = lane; i < old.length; i += 16) await saveLegacy(raw, old[i] as StoredConversation);
      });
      await Promise.all(lanes);
      const store = new TableConversationStore(storageAt(connectionString()), tableName);
      const listed: string[] = [];
      for await (const item of listAll(store, { tenantIds: ['bulk'] }, 250)) listed.push(`${item.channelId}|${item.conversationId}`);
      assert.deepEqual(listed.sort(), old.map((item) => `${item.channelId}|${item.conversationId}`).sort());
      assert.equal((await rowsOf(raw)).filter((row) => isLegacyPartitionKey(row.partitionKey)).length, 0);
      for (const item of old.slice(-2 * hostileIds.length)) assert.deepEqual(await store.get(item), item);
    });
  });
});
