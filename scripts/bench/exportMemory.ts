import path from 'node:path';
import { startAzurite } from '../azurite';
import { startLocalHost } from '../localHost/host';
import type { HostLog } from '../localHost/log';
import { TableDeliveryLedgers } from '../../shared/ledgers/tableDeliveryLedgers';
import { AudienceTable } from '../../shared/queued/audienceTable';
import { NotificationTable } from '../../shared/queued/notificationTable';
import { ledgerNameOf } from '../../shared/queued/workContext';
import { loadSettings } from '../../shared/settings';
import type { StoredConversation } from '../../shared/storage/conversationStore';

/**
 * The CSV export's memory: a completed notification of N recipients over T tenants is written
 * straight into Azurite (audience chunks, ledger groups, a failure row every 100th recipient, work
 * rows at their end), then the real app in the local host answers
 * `GET /api/notifications/{id}/recipients?format=csv` to a client in this process that counts lines
 * and holds nothing (the app builds the CSV as it reads the rows; the Functions model then hands it
 * over as one buffer, as the app does not turn on HTTP streams). RSS is sampled every 50 ms before
 * and during the download.
 *
 *   node dist/scripts/bench/exportMemory.js [recipients=100000] [tenants=100]
 */

const recipients = Number(process.argv[2] ?? 100_000);
const tenantCount = Number(process.argv[3] ?? 100);
const id = 'export-memory';
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

async function main(): Promise<void> {
  const azurite = await startAzurite();
  try {
    const env = {
      FUNCTIONS_WORKER_RUNTIME: 'node',
      AzureWebJobsStorage: azurite.connectionString,
      MicrosoftAppId: '',
      MicrosoftAppPassword: '',
      NOTIFY_SCHEDULE: '',
      'AzureWebJobs.notifyTimer.Disabled': 'true',
      'AzureWebJobs.notificationsRetention.Disabled': 'true',
      ...Object.fromEntries(
        ['notificationsPlan', 'notificationsPlanPoison', 'notificationsDeliver', 'notificationsDeliverPoison'].map((name) => [`AzureWebJobs.${name}.Disabled`, 'true']),
      ),
    };
    // The app reads its settings from process.env (getServices), as in Azure.
    Object.assign(process.env, env);
    const seedStarted = performance.now();
    await seed(loadSettings(env).conversationsStorage);
    console.log(`seeded ${recipients} recipients over ${tenantCount} tenants in ${((performance.now() - seedStarted) / 1_000).toFixed(1)} s`);

    const silent: HostLog = { write: () => undefined, info: () => undefined, warn: () => undefined, error: (message) => console.error(message) };
    const host = await startLocalHost({ appRoot: path.resolve(__dirname, '..', '..', '..'), port: 0, hostnames: ['127.0.0.1'], env, log: silent });
    try {
      // One small page first, so the app's services are built before the baseline is taken.
      await (await fetch(`http://127.0.0.1:${host.port}/api/notifications/${id}/recipients?limit=1`)).text();
      global.gc?.();
      const before = process.memoryUsage.rss();
      let peak = before;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        const rss = process.memoryUsage.rss();
        samples.push(rss);
        peak = Math.max(peak, rss);
      }, 50);
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${host.port}/api/notifications/${id}/recipients?format=csv`);
      let lines = 0;
      let bytes = 0;
      let pieces = 0;
      let firstByteMs: number | undefined;
      for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
        firstByteMs ??= performance.now() - started;
        pieces += 1;
        bytes += piece.byteLength;
        for (const byte of piece) if (byte === 10) lines += 1;
      }
      const seconds = (performance.now() - started) / 1_000;
      clearInterval(sampler);
      const quarter = Math.max(1, Math.floor(samples.length / 4));
      const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
      console.log(`status ${response.status}, transfer-encoding ${response.headers.get('transfer-encoding')}, content-length ${response.headers.get('content-length')}`);
      console.log(`rows ${lines - 1} (expected ${recipients}), ${mb(bytes)} MB in ${pieces} pieces, first byte after ${firstByteMs?.toFixed(0)} ms, ${seconds.toFixed(1)} s`);
      console.log(
        `RSS before ${mb(before)} MB, peak ${mb(peak)} MB (+${mb(peak - before)} MB); median of the first quarter ${mb(median(samples.slice(0, quarter)))} MB, of the last quarter ${mb(median(samples.slice(-quarter)))} MB`,
      );
    } finally {
      await host.close();
    }
  } finally {
    await azurite.stop();
  }
}

/** A completed notification, as the planner and the deliverers would have left it. */
async function seed(connection: ReturnType<typeof loadSettings>['conversationsStorage']): Promise<void> {
  const notifications = new NotificationTable(connection);
  const audience = new AudienceTable(connection);
  const ledgers = new TableDeliveryLedgers(connection);
  const createdAt = new Date();
  await notifications.create({ id, fingerprint: 'bench', request: { activity: { type: 'message', text: 'bench' } }, createdAt });
  await notifications.addToIndex(id, createdAt);
  const perTenant = Math.ceil(recipients / tenantCount);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tenantCount) {
      const tenant = next++;
      const tenantId = `tenant-${tenant}`;
      const conversations: StoredConversation[] = [];
      for (let i = 0; i < perTenant && tenant * perTenant + i < recipients; i++) {
        const number = tenant * perTenant + i;
        const conversationId = `a:conv-${String(number).padStart(7, '0')}`;
        conversations.push({
          channelId: 'msteams',
          conversationId,
          reference: { channelId: 'msteams', serviceUrl: 'https://smba.invalid/', conversation: { id: conversationId, tenantId, conversationType: 'personal', isGroup: false, name: '' } },
          serviceUrl: 'https://smba.invalid/',
          tenantId,
          userId: `29:user-${number}`,
          aadObjectId: `aad-${number}`,
          conversationType: 'personal',
          updatedAt: createdAt,
        });
      }
      await notifications.createWork(id, tenantId);
      // Planner steps of 1,000, as the planner writes them.
      for (let step = 0; step * 1_000 < conversations.length; step++) await audience.write(id, tenantId, step * 5, conversations.slice(step * 1_000, (step + 1) * 1_000));
      const ledger = ledgers.open(ledgerNameOf(id, tenantId), { groupWindowMs: 20 });
      const failed = conversations.filter((_, i) => i % 100 === 7);
      await Promise.all(conversations.filter((_, i) => i % 100 !== 7).map((conversation) => ledger.recordDelivered(conversation)));
      await notifications.recordFailures(id, failed.map((conversation) => ({ tenantId, channelId: 'msteams', conversationId: conversation.conversationId, status: 403, code: 'MessageWritesBlocked', message: 'blocked', attempts: 1, pruned: false })));
      const work = await notifications.getWork(id, tenantId);
      if (work === undefined) throw new Error('no work row');
      let cursor = '';
      for await (const chunk of audience.chunks(id, tenantId)) cursor = chunk.rowKey;
      await notifications.updateWork(id, work, { cursor, state: 'done', sent: conversations.length - failed.length, failed: failed.length });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await notifications.transition(id, 'completed', { completedAt: new Date() });
}

// The worker's HTTP proxy (@azure/functions) is never closed: exit once done.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
