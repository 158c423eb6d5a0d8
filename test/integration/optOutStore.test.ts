import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, tableConnectionString } from '../../scripts/azurite';
import { OptOutTableUnavailableError, TableOptOutStore } from '../../shared/engagement/tableOptOutStore';
import { optOutStoreContract } from '../support/optOutStoreContract';
import { storageAt } from '../support/storageAt';
import { useAzurite } from '../support/testAzurite';

const azurite = useAzurite();

describe('TableOptOutStore', () => {
  optOutStoreContract(() => new TableOptOutStore(storageAt(azurite.connectionString()), { tableName: azurite.freshTableName('optouts') }));

  test('a store whose storage does not answer rejects with OptOutTableUnavailableError', async () => {
    const store = new TableOptOutStore(storageAt(tableConnectionString(await freePort())), { tableName: 'optouts', maxRetries: 0 });
    await assert.rejects(store.tenant('tenant-1'), OptOutTableUnavailableError);
  });
});
