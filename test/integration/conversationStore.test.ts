import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { freePort, startAzurite, tableConnectionString } from '../../scripts/azurite';
import { keyOf } from '../../shared/storage/conversationKeys';
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
});
