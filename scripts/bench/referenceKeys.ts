import { odata, TableClient, type TableEntity } from '@azure/data-tables';
import { startAzurite } from '../azurite';
import { migrateLegacyKeys } from '../../shared/storage/legacyKeyMigration';
import { keyOf, legacyKeyOf, partitionPrefix, type TableKeys } from '../../shared/storage/conversationKeys';
import { partitionsStartingWith } from '../../shared/storage/keyRanges';

/**
 * Upserts of one tenant's references into Azurite under the first key scheme
 * (every reference in the partition `msteams`) and under the current one
 * (tenant and hash bucket), in the same run, then lists the tenant back.
 * Prints upserts/s and listed rows/s. An old-scheme run stops at its time
 * bound and reports the rate reached (a new-scheme run has ten times the bound);
 * its rows are then moved to the new keys by the migration, timed too.
 *
 *   npm run bench:references -- [sizes=10000,50000] [repeats=2] [boundSeconds=180]
 */

type Scheme = 'old' | 'new';
const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const workers = 32;

function entity(keys: TableKeys, i: number): TableEntity {
  const conversationId = `a:1${String(i).padStart(7, '0')}bench-personal-chat`;
  return {
    ...keys,
    reference: JSON.stringify({ channelId: 'msteams', conversation: { id: conversationId, tenantId, conversationType: 'personal' } }),
    channelId: 'msteams',
    conversationId,
    tenantId,
    userId: `29:user-${i}`,
    aadObjectId: `aad-${i}`,
    conversationType: 'personal',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    updatedAt: new Date(),
  };
}

function keysFor(scheme: Scheme, i: number): TableKeys {
  const key = { channelId: 'msteams', conversationId: `a:1${String(i).padStart(7, '0')}bench-personal-chat`, tenantId };
  return scheme === 'old' ? legacyKeyOf(key) : keyOf(key);
}

async function upsertAll(client: TableClient, scheme: Scheme, count: number, boundMs: number): Promise<{ done: number; seconds: number }> {
  const started = Date.now();
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count && Date.now() - started < boundMs) {
      const i = next++;
      await client.upsertEntity(entity(keysFor(scheme, i), i), 'Replace');
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return { done, seconds: (Date.now() - started) / 1000 };
}

async function listTenant(client: TableClient, scheme: Scheme): Promise<{ rows: number; seconds: number }> {
  const prefix = partitionPrefix(tenantId);
  const filter =
    scheme === 'old'
      ? odata`PartitionKey eq ${'msteams'} and tenantId eq ${tenantId}`
      : partitionsStartingWith(prefix);
  const started = Date.now();
  let rows = 0;
  for await (const page of client.listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: 1000 })) rows += page.length;
  return { rows, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10000,50000').split(',').map(Number);
  const repeats = Number(process.argv[3] ?? 2);
  const boundMs = Number(process.argv[4] ?? 180) * 1000;
  const azurite = await startAzurite();
  const lines: string[] = [];
  try {
    let table = 0;
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const size of sizes) {
        for (const scheme of ['old', 'new'] as const) {
          const client = TableClient.fromConnectionString(azurite.connectionString, `bench${Date.now()}t${table++}`, { allowInsecureConnection: true });
          await client.createTable();
          const bound = scheme === 'old' ? boundMs : 10 * boundMs;
          const upserted = await upsertAll(client, scheme, size, bound);
          const listed = await listTenant(client, scheme);
          const cut = upserted.done < size ? ` (stopped at the ${bound / 1000} s bound)` : '';
          const line =
            `run ${repeat} ${scheme} scheme, ${size} references: ${upserted.done} upserted in ${upserted.seconds.toFixed(1)} s = ` +
            `${Math.round(upserted.done / upserted.seconds)} upserts/s${cut}; listed ${listed.rows} in ${listed.seconds.toFixed(1)} s = ` +
            `${Math.round(listed.rows / listed.seconds)} rows/s`;
          console.log(line);
          lines.push(line);
          if (scheme === 'old') {
            const started = Date.now();
            const { moved } = await migrateLegacyKeys(client);
            const seconds = (Date.now() - started) / 1000;
            const migrated = `run ${repeat} moving those ${moved} old-key rows to the new keys: ${seconds.toFixed(1)} s = ${Math.round(moved / seconds)} rows/s`;
            console.log(migrated);
            lines.push(migrated);
          }
          await client.deleteTable();
        }
      }
    }
  } finally {
    await azurite.stop();
  }
  console.log(`\nSummary\n${lines.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
