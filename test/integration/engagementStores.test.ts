import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { freePort, tableConnectionString } from '../../scripts/azurite';
import { AcknowledgementTableUnavailableError, TableAcknowledgementStore } from '../../shared/engagement/tableAcknowledgementStore';
import { toKey } from '../../shared/storage/conversationKeys';
import { ReadReceiptTableUnavailableError, TableReadReceiptStore } from '../../shared/engagement/tableReadReceiptStore';
import { acknowledgementStoreContract } from '../support/acknowledgementStoreContract';
import { readReceiptStoreContract } from '../support/readReceiptStoreContract';
import { storageAt } from '../support/storageAt';
import { useAzurite } from '../support/testAzurite';

const azurite = useAzurite();

describe('TableAcknowledgementStore', () => {
  acknowledgementStoreContract(() => new TableAcknowledgementStore(storageAt(azurite.connectionString()), { tableName: azurite.freshTableName('acks') }));

  test('a store whose storage does not answer rejects with AcknowledgementTableUnavailableError', async () => {
    const store = new TableAcknowledgementStore(storageAt(tableConnectionString(await freePort())), { maxRetries: 0 });
    await assert.rejects(store.count('n-1'), AcknowledgementTableUnavailableError);
  });
});

describe('TableReadReceiptStore', () => {
  readReceiptStoreContract(() => new TableReadReceiptStore(storageAt(azurite.connectionString()), { tableName: azurite.freshTableName('reads') }));

  test('a store whose storage does not answer rejects with ReadReceiptTableUnavailableError', async () => {
    const store = new TableReadReceiptStore(storageAt(tableConnectionString(await freePort())), { maxRetries: 0 });
    await assert.rejects(store.receipt({ tenantId: 't-1', conversation: { channelId: 'msteams', conversationId: 'a:1' }, lastReadMessageId: '1', at: new Date() }), ReadReceiptTableUnavailableError);
  });

  test('deliveries indexed in the first layout (a partition per chat) are still marked by a receipt and removed by retention', async () => {
    const tableName = azurite.freshTableName('reads');
    const store = new TableReadReceiptStore(storageAt(azurite.connectionString()), { tableName });
    const client = TableClient.fromConnectionString(azurite.connectionString(), tableName, { allowInsecureConnection: true });
    await store.count('warm-up');
    for (const person of ['a:ada', 'a:bob']) {
      const chat = toKey(`msteams\n${person}`);
      await client.createEntity({ partitionKey: 'sold-1', rowKey: chat });
      await client.createEntity({ partitionKey: `c${chat}`, rowKey: 'old-1', notificationId: 'old-1', channelId: 'msteams', conversationId: person, activityId: '100' });
    }
    const ada = { channelId: 'msteams', conversationId: 'a:ada' };
    await store.recordSent([{ tenantId: 't-1', notificationId: 'new-1', conversation: ada, activityId: '200' }]);

    assert.equal(await store.receipt({ tenantId: 't-1', conversation: ada, lastReadMessageId: '300', at: new Date() }), 2);
    assert.deepEqual([await store.count('old-1'), await store.count('new-1')], [1, 1]);
    while ((await store.remove('old-1', 100)) > 0);
    const left = [];
    for await (const row of client.listEntities({ queryOptions: { filter: "PartitionKey ne 'nnew-1'" } })) left.push(`${String(row.partitionKey).replace(/,.*/, ',<write>')} ${row.rowKey}`);
    assert.deepEqual(left, ['snew-1,<write> msteams!0Aa:ada'], 'the old notification leaves no row, and the new one only its listing');
  });
});
