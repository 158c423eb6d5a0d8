import type { StoredConversation } from '../../shared/storage/conversationStore';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { AudienceTable } from '../../shared/queued/audienceTable';
import { conversation } from '../support/conversationStoreContract';
import { storageAt } from '../support/storageAt';
import { useAzurite } from '../support/testAzurite';

const azurite = useAzurite();

/** Every recipient after the cursor, a batch at a time, as a delivery worker reads them. */
async function readAll(audience: AudienceTable, id: string, tenantId: string, batchSize: number): Promise<{ ids: string[]; batches: number[] }> {
  const ids: string[] = [];
  const batches: number[] = [];
  let cursor = '';
  for (;;) {
    const batch = await audience.read(id, tenantId, cursor, batchSize);
    if (batch.length === 0) return { ids, batches };
    batches.push(batch.length);
    ids.push(...batch.map((row) => (row.recipient as StoredConversation).conversationId));
    cursor = batch[batch.length - 1]?.rowKey ?? cursor;
  }
}

describe('AudienceTable', () => {
  test('a tenant’s recipients come back once each, in planning order, however they were chunked and batched', async () => {
    const tableName = azurite.freshTableName('recipients');
    const audience = new AudienceTable(storageAt(azurite.connectionString()), { tableName });
    const page0 = Array.from({ length: 700 }, (_, i) => conversation(`a:1first-page-${String(i).padStart(4, '0')}`, { tenantId: 'contoso' }));
    const page1 = Array.from({ length: 5 }, (_, i) => conversation(`a:1second-page-${i}`, { tenantId: 'contoso' }));
    await audience.write('n1', 'contoso', 0, page0);
    await audience.write('n1', 'contoso', 1, page1);
    await audience.write('n1', 'fabrikam', 0, [conversation('a:1other-tenant', { tenantId: 'fabrikam' })]);

    const { ids, batches } = await readAll(audience, 'n1', 'contoso', 100);
    assert.deepEqual(ids, [...page0, ...page1].map((item) => item.conversationId));
    assert.ok(batches.length > 1 && batches.every((size) => size >= 5), `batches ${batches.join(', ')}`);

    const [first] = await audience.read('n1', 'contoso', '', 1);
    assert.deepEqual(first?.recipient, page0[0], 'a recipient comes back as it was written, dates included');

    const client = TableClient.fromConnectionString(azurite.connectionString(), tableName, { allowInsecureConnection: true });
    let rows = 0;
    for await (const row of client.listEntities()) rows += row.rowKey === undefined ? 0 : 1;
    assert.ok(rows < 30, `706 recipients in ${rows} rows`);
  });

  test('writing a page again (a planner redoing it after a crash) leaves each recipient once', async () => {
    const audience = new AudienceTable(storageAt(azurite.connectionString()), { tableName: azurite.freshTableName('recipients') });
    const page = Array.from({ length: 250 }, (_, i) => conversation(`a:1redo-${String(i).padStart(3, '0')}`, { tenantId: 'contoso' }));
    await audience.write('n2', 'contoso', 0, page);
    await audience.write('n2', 'contoso', 0, page);
    const { ids } = await readAll(audience, 'n2', 'contoso', 500);
    assert.deepEqual(ids, page.map((item) => item.conversationId));
  });
});
