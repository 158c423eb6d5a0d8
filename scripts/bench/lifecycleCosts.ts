import { TableClient, type TransactionAction } from '@azure/data-tables';
import { startAzurite } from '../azurite';
import { BroadcastEngine } from '../../shared/delivery/broadcast';
import { RateLimiter } from '../../shared/delivery/rateLimiter';
import { SendSlots } from '../../shared/delivery/sendSlots';
import { realClock } from '../../shared/clock';
import { MemoryOptOutStore } from '../../shared/engagement/memoryOptOutStore';
import { OptOutFilter } from '../../shared/engagement/optOutFilter';
import { aadKey } from '../../shared/engagement/optOutStore';
import { TableOptOutStore } from '../../shared/engagement/tableOptOutStore';
import { TableDeliveryLedgers } from '../../shared/ledgers/tableDeliveryLedgers';
import { AudienceTable } from '../../shared/queued/audienceTable';
import { NotificationTable } from '../../shared/queued/notificationTable';
import { removeExpiredNotifications } from '../../shared/queued/retention';
import { ledgerNameOf } from '../../shared/queued/workContext';
import { toKey } from '../../shared/storage/conversationKeys';
import { toStoredConversation, type StoredConversation } from '../../shared/storage/conversationStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { loadSettings } from '../../shared/settings';

/**
 * What opt-out and retention cost, printed as figures (Azurite on this machine):
 *   1. reading one tenant's 10,000 opt-outs, and matching 100,000 recipients against them;
 *   2. the delivery engine over 100,000 recipients (channel answering at once) with and without opt-outs;
 *   3. retention deleting a notification of 20,000 ledger rows and 100,000 recipients' audience.
 * Usage: npm run build && node dist/scripts/bench/lifecycleCosts.js
 */

function conversation(i: number, tenants: number): StoredConversation {
  const check = toStoredConversation({
    channelId: 'msteams',
    serviceUrl: 'https://smba.example/',
    conversation: { id: `a:c${i}`, tenantId: `tenant-${i % tenants}`, conversationType: 'personal', isGroup: false, name: '' },
    bot: { id: '28:bot', name: 'Bench' },
    user: { id: `29:u${i}`, name: '', aadObjectId: `aad-${i}` },
  });
  if (!check.ok) throw new Error(check.reason);
  return check.conversation;
}

async function inTransactions(client: TableClient, entities: readonly Record<string, unknown>[]): Promise<void> {
  await client.createTable();
  const byPartition = new Map<string, TransactionAction[]>();
  for (const entity of entities) {
    const partition = String(entity['partitionKey']);
    const actions = byPartition.get(partition) ?? [];
    actions.push(['upsert', entity as { partitionKey: string; rowKey: string }, 'Replace']);
    byPartition.set(partition, actions);
  }
  const chunks: TransactionAction[][] = [];
  for (const actions of byPartition.values()) for (let i = 0; i < actions.length; i += 100) chunks.push(actions.slice(i, i + 100));
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) await client.submitTransaction(chunk);
  }));
}

const ms = (start: number): string => `${Math.round(performance.now() - start)} ms`;

async function main(): Promise<void> {
  const azurite = await startAzurite({});
  try {
    const settings = loadSettings({ AzureWebJobsStorage: azurite.connectionString });
    const storage = settings.conversationsStorage;

    // 1. Opt-outs of one tenant.
    const optOuts = new TableOptOutStore(storage);
    await optOuts.isOptedOut({ tenantId: 'x', channelId: 'msteams', userId: 'x', aadObjectId: '' });
    const optOutRows = Array.from({ length: 10_000 }, (_, i) => ({
      partitionKey: `t${toKey('tenant-0')}`, rowKey: toKey(aadKey(`aad-${i * 10}`)), person: aadKey(`aad-${i * 10}`), tenantId: 'tenant-0',
    }));
    await inTransactions(TableClient.fromConnectionString(azurite.connectionString, 'optouts', { allowInsecureConnection: true }), optOutRows);
    for (let run = 1; run <= 3; run++) {
      const start = performance.now();
      const set = await optOuts.tenant('tenant-0');
      console.log(`opt-outs: read ${set.size} opt-outs of one tenant in ${ms(start)} (run ${run})`);
    }
    const set = await optOuts.tenant('tenant-0');
    const recipients = Array.from({ length: 100_000 }, (_, i) => conversation(i, 1));
    let start = performance.now();
    const covered = recipients.filter((recipient) => set.covers(recipient)).length;
    console.log(`opt-outs: matched 100,000 recipients against them in ${ms(start)} (${covered} opted out)`);

    // 2. The engine, with and without opt-outs (1 % opted out, 10 tenants).
    const store = new MemoryConversationStore();
    for (let i = 0; i < 100_000; i++) await store.upsert(conversation(i, 10));
    const memoryOptOuts = new MemoryOptOutStore();
    for (let i = 0; i < 100_000; i += 100) {
      await memoryOptOuts.optOut({ tenantId: `tenant-${i % 10}`, channelId: 'msteams', userId: `29:u${i}`, aadObjectId: `aad-${i}` });
    }
    for (const withOptOuts of [false, true, false, true]) {
      const engine = new BroadcastEngine({
        store,
        send: async () => undefined,
        rateLimiter: new RateLimiter({ tenantPerSecond: 1e9, conversationPerSecond: 1e9 }, realClock, { warmupMs: 0 }),
        sendSlots: new SendSlots(128),
        clock: realClock,
        settings: { concurrency: 128, maxAttempts: 5, deadlineSeconds: 600 },
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      });
      memoryOptOuts.reads = 0;
      start = performance.now();
      const summary = await engine.broadcast({ id: 'bench', activity: { type: 'message', text: 'hi' }, ...(withOptOuts ? { optOuts: new OptOutFilter(memoryOptOuts) } : {}) });
      console.log(
        `engine: 100,000 recipients ${withOptOuts ? 'with' : 'without'} opt-outs in ${ms(start)}: sent ${summary.sent}, optedOut ${summary.optedOut}` +
          (withOptOuts ? `, ${memoryOptOuts.reads} opt-out reads` : ''),
      );
    }

    // 3. Retention of one finished notification.
    const notifications = new NotificationTable(storage);
    const audience = new AudienceTable(storage);
    const ledgers = new TableDeliveryLedgers(storage);
    const id = 'bench-retention';
    const createdAt = new Date(Date.now() - 1_000);
    await notifications.create({ id, fingerprint: 'f', request: { activity: { type: 'message', text: 'hi' } }, createdAt });
    await notifications.addToIndex(id, createdAt);
    for (let t = 0; t < 10; t++) {
      await notifications.createWork(id, `tenant-${t}`);
      await audience.write(id, `tenant-${t}`, 0, recipients.slice(t * 10_000, (t + 1) * 10_000));
    }
    const ledgerRows = Array.from({ length: 20_000 }, (_, i) => ({
      partitionKey: toKey(ledgerNameOf(id, `tenant-${i % 10}`)), rowKey: `~group~${i}`, keys: JSON.stringify([`k${i}`]),
    }));
    await inTransactions(TableClient.fromConnectionString(azurite.connectionString, 'deliveries', { allowInsecureConnection: true }), ledgerRows);
    await notifications.transition(id, 'completed', { completedAt: new Date() });
    start = performance.now();
    const report = await removeExpiredNotifications({ notifications, audience, ledgers }, { retentionDays: 0 });
    const elapsed = performance.now() - start;
    console.log(
      `retention: removed ${report.removed.length} notification, ${report.rowsDeleted} rows (20,000 ledger rows, 100,000 recipients' audience chunks) ` +
        `in ${Math.round(elapsed)} ms: ${Math.round(report.rowsDeleted / (elapsed / 1_000))} rows/s`,
    );
  } finally {
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
