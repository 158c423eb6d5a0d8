import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, tableConnectionString } from '../../scripts/azurite';
import { AcknowledgementTableUnavailableError, TableAcknowledgementStore } from '../../shared/engagement/tableAcknowledgementStore';
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
    await assert.rejects(store.receipt({ conversation: { channelId: 'msteams', conversationId: 'a:1' }, lastReadMessageId: '1', at: new Date() }), ReadReceiptTableUnavailableError);
  });
});
