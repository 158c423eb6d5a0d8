import { QueueClient } from '@azure/storage-queue';
import { setTimeout as delay } from 'node:timers/promises';
import { startAzurite, tableConnectionString, type RunningAzurite } from '../../azurite';
import type { FakeConnectorOptions } from '../../fakeConnector';
import { startQueueWorkers } from '../../queueWorkers';
import { createServices } from '../../../shared/services';
import { deliverQueueName, planQueueName } from '../../../shared/queued/workQueues';
import { defaultAudienceTable } from '../../../shared/queued/audienceTable';
import { defaultNotificationsTable } from '../../../shared/queued/notificationTable';
import { defaultDeliveriesTable } from '../../../shared/ledgers/tableDeliveryLedgers';
import { TableConversationStore } from '../../../shared/storage/tableConversationStore';
import { summarizeExecutions, TimedQueuedNotifications, type ExecutionSummary } from '../executionTimes';
import type { Logger } from '../../../shared/logger';
import { benchSettings, quietLogger } from '../measure';
import { seedTable } from '../references';
import { withConnector } from '../remoteConnector';
import type { BenchContext, Scenario, SummaryRow } from '../scenario';
import { tableCapacity } from '../tableCapacity';
import { startCountingProxy, type CountingProxy, type StorageCounts } from '../storageCountingProxy';
import { teamsLike } from '../throughput';

/**
 * What a queued notification costs (issue 17): the storage transactions and
 * the function execution time per 1,000 deliveries.
 *
 * The path of POST /api/notifications through the app's services, the queue
 * triggers' work done in this process by startQueueWorkers (one instance),
 * with every table and queue request going through a counting proxy in front
 * of Azurite. References are seeded and progress is watched over a direct
 * connection, so neither is counted. Cases: `--cost-tenants` (10) x
 * `--cost-per-tenant` (1,000) unthrottled at 0 ms (CPU-bound) and at Teams'
 * pace (100 ms, 50/s per tenant), and 1 tenant x `--cost-per-tenant` at Teams'
 * pace; each `--cost-repeats` (2) times.
 */
export const cost: Scenario = {
  name: 'cost',
  description:
    'storage transactions and execution seconds per 1,000 queued deliveries: --cost-tenants=10 x --cost-per-tenant=1000 at 0 ms unthrottled and at Teams pace, 1 tenant at Teams pace, --cost-repeats=2, GB-s at --cost-memory-mb=2048',
  async run(context) {
    const tenants = context.flag('cost-tenants', 10);
    const perTenant = context.flag('cost-per-tenant', 1_000);
    const repeats = context.flag('cost-repeats', 2);
    const memoryGb = context.flag('cost-memory-mb', 2_048) / 1_024;
    const cases: CostCase[] = [
      {
        name: 'unthrottled',
        title: `${tenants} tenants x ${perTenant}, fake connector at 0 ms, no throttling (CPU-bound)`,
        connector: { latencyMs: 0 },
        settings: { NOTIFY_TENANT_RATE_PER_SECOND: '100000', NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000' },
        tenants,
        perTenant,
      },
      { name: 'teamspace', title: `${tenants} tenants x ${perTenant}, 100 ms, Teams-like 50/s per tenant`, connector: teamsLike, tenants, perTenant },
      { name: 'onetenant', title: `1 tenant x ${perTenant}, 100 ms, Teams-like 50/s`, connector: teamsLike, tenants: 1, perTenant },
    ];
    const azurite = await startAzurite({ queue: true });
    const tableProxy = await startCountingProxy('table', azurite.tablePort);
    const queueProxy = await startCountingProxy('queue', azurite.queuePort ?? 0);
    const rows: SummaryRow[] = [];
    try {
      for (const plan of cases) {
        const runs = await runCase(azurite, { table: tableProxy, queue: queueProxy }, plan, repeats);
        printCase(plan, runs, memoryGb);
        rows.push(summaryRow(plan, runs, memoryGb));
      }
      return rows;
    } finally {
      await tableProxy.stop();
      await queueProxy.stop();
      await azurite.stop();
    }
  },
};

interface CostCase {
  readonly name: string;
  readonly title: string;
  readonly connector: FakeConnectorOptions;
  readonly settings?: Record<string, string>;
  readonly tenants: number;
  readonly perTenant: number;
}

interface CostRun {
  readonly delivered: number;
  readonly seconds: number;
  readonly table: StorageCounts;
  readonly queue: StorageCounts;
  readonly executions: ExecutionSummary;
  /** What the notification left in the notifications, recipients and deliveries tables (nothing expires). */
  readonly stored: { readonly rows: number; readonly bytes: number };
  /** What the app logged (each line a trace in Application Insights): lines and characters. */
  readonly logged: { readonly lines: number; readonly characters: number };
  readonly note: string;
}

interface Proxies {
  readonly table: CountingProxy;
  readonly queue: CountingProxy;
}

async function runCase(azurite: RunningAzurite, proxies: Proxies, plan: CostCase, repeats: number): Promise<CostRun[]> {
  return withConnector(plan.connector, async (connector) => {
    const table = `benchcost${plan.name}${Date.now()}`;
    const direct = benchSettings(azurite.connectionString, table, plan.settings);
    await seedTable(new TableConversationStore(direct.conversationsStorage, direct.conversationsTable), connector.serviceUrl, plan.tenants, plan.perTenant);
    const counted = benchSettings(tableConnectionString(proxies.table.port, proxies.queue.port), table, plan.settings);
    const runs: CostRun[] = [];
    for (let run = 1; run <= repeats; run++) {
      // A fresh instance each time: its clients, caches and tables-created-once included, as a cold start.
      const observer = createServices(direct, { logger: quietLogger }).queued;
      const before = await tableCapacity(azurite.connectionString, keptTables);
      const logged = { lines: 0, characters: 0 };
      const queued = new TimedQueuedNotifications(createServices(counted, { logger: countingLogger(logged) }).queued.deps);
      await connector.reset();
      // Hidden 10 minutes while a work item runs, as the host keeps it (a 30 s default lets a slow slice reappear and run twice).
      const workers = startQueueWorkers(tableConnectionString(proxies.table.port, proxies.queue.port), queued, { visibilitySeconds: 600 });
      proxies.table.reset();
      proxies.queue.reset();
      const started = performance.now();
      const id = `bench-cost-${plan.name}-${run}-${Date.now()}`;
      try {
        const submitted = await queued.submit({ id, activity: { type: 'message', text: 'Benchmark notification' } });
        if (submitted.kind !== 'accepted') throw new Error(`not accepted: ${submitted.kind}`);
        for (;;) {
          const state = await observer.deps.notifications.stateOf(id);
          if (state !== undefined && state !== 'queued' && state !== 'running') break;
          await delay(100);
        }
        await drained(azurite.connectionString);
      } finally {
        await workers.stop();
      }
      const seconds = (performance.now() - started) / 1_000;
      const status = await observer.status(id);
      const stats = await connector.stats();
      const after = await tableCapacity(azurite.connectionString, keptTables);
      runs.push({
        stored: { rows: after.rows - before.rows, bytes: after.bytes - before.bytes },
        delivered: stats.distinctDelivered,
        seconds,
        table: proxies.table.counts(),
        queue: proxies.queue.counts(),
        executions: summarizeExecutions(queued.executions),
        logged,
        note: `${status?.state}: sent ${status?.sent}, failed ${status?.failed}, pending ${status?.pending}; ${stats.duplicates} duplicates, ${stats.throttled} x 429`,
      });
    }
    return runs;
  });
}

/** The tables a queued notification writes to and leaves behind. */
const keptTables = [defaultNotificationsTable, defaultAudienceTable, defaultDeliveriesTable];

/** Counts what the app logs (and prints its errors, as the other scenarios do). */
function countingLogger(logged: { lines: number; characters: number }): Logger {
  const count = (...args: unknown[]): void => {
    logged.lines += 1;
    logged.characters += args.map(String).join(' ').length;
  };
  return {
    log: count,
    warn: count,
    error: (...args) => {
      count(...args);
      quietLogger.error(...args);
    },
  };
}

/** Until the work queues hold no message, visible or delayed (a continuation or a `waiting` re-enqueue still costs), at most 30 s. */
async function drained(connectionString: string): Promise<void> {
  const queues = [planQueueName, deliverQueueName].map((name) => new QueueClient(connectionString, name));
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    const counts = await Promise.all(queues.map(async (queue) => (await queue.getProperties()).approximateMessagesCount ?? 0));
    if (counts.every((count) => count === 0)) return;
    await delay(250);
  }
}

function perThousand(count: number, run: CostRun): number {
  return (1_000 * count) / Math.max(1, run.delivered);
}

/** Every request through the proxies but the Get Messages that found the queue empty (their number is the poller's, not the notification's). */
function transactionsOf(run: CostRun): number {
  const sum = (counts: StorageCounts): number => [...counts.requests.values()].reduce((a, b) => a + b, 0);
  return sum(run.table) + sum(run.queue) - run.queue.emptyGets;
}

function printCase(plan: CostCase, runs: readonly CostRun[], memoryGb: number): void {
  console.log(`\n=== cost: ${plan.title}; per 1,000 deliveries, one column per run`);
  const kinds = new Set<string>();
  for (const run of runs) for (const counts of [run.table, run.queue]) for (const kind of counts.requests.keys()) kinds.add(kind);
  const line = (name: string, value: (run: CostRun) => string): void => {
    console.log(`${name.padEnd(40)}${runs.map((run) => value(run).padStart(12)).join('')}`);
  };
  line('deliveries', (run) => String(run.delivered));
  line('seconds, POST to drained queues', (run) => run.seconds.toFixed(1));
  for (const kind of [...kinds].sort()) {
    line(kind, (run) => perThousand(run.table.requests.get(kind as never) ?? run.queue.requests.get(kind as never) ?? 0, run).toFixed(1));
  }
  const tables = new Set<string>();
  for (const run of runs) for (const key of run.table.byTable.keys()) tables.add(key);
  for (const key of [...tables].sort()) {
    line(`  ${key.replace(/ benchcost\w+$/, ' conversations')}`, (run) => perThousand(run.table.byTable.get(key) ?? 0, run).toFixed(1));
  }
  line('  of queue gets: empty (poller)', (run) => perThousand(run.queue.emptyGets, run).toFixed(1));
  line('  entity operations inside batches', (run) => perThousand(run.table.batchOperations, run).toFixed(1));
  line('storage transactions (no empty gets)', (run) => perThousand(transactionsOf(run), run).toFixed(1));
  line('executions (plan + deliver)', (run) => perThousand(run.executions.executions, run).toFixed(2));
  line('execution seconds, summed', (run) => perThousand(run.executions.summedSeconds, run).toFixed(2));
  line('instance busy seconds', (run) => perThousand(run.executions.busySeconds, run).toFixed(2));
  line('billed s, per function (1 s min, 100 ms)', (run) => perThousand(run.executions.billedSeconds, run).toFixed(2));
  line('table rows left behind', (run) => perThousand(run.stored.rows, run).toFixed(1));
  line('table bytes left behind (billed size)', (run) => perThousand(run.stored.bytes, run).toFixed(0));
  line('app log lines', (run) => perThousand(run.logged.lines, run).toFixed(1));
  line('app log characters', (run) => perThousand(run.logged.characters, run).toFixed(0));
  line(`GB-s at ${memoryGb * 1_024} MB`, (run) => perThousand(run.executions.billedSeconds * memoryGb, run).toFixed(2));
  for (const [index, run] of runs.entries()) {
    const failed = [...run.table.failed, ...run.queue.failed].map(([kind, count]) => `${kind}: ${count}`).join(', ');
    console.log(`run ${index + 1}: ${run.note}${failed === '' ? '' : `; answered 4xx/5xx (counted above): ${failed}`}`);
  }
}

function summaryRow(plan: CostCase, runs: readonly CostRun[], memoryGb: number): SummaryRow {
  const each = (value: (run: CostRun) => number, digits: number): string => runs.map((run) => value(run).toFixed(digits)).join(', ');
  return {
    scenario: `cost, ${plan.title}`,
    result: `${each((run) => perThousand(transactionsOf(run), run), 0)} transactions per 1,000`,
    detail: `executions ${each((run) => perThousand(run.executions.executions, run), 1)}; GB-s ${each((run) => perThousand(run.executions.billedSeconds * memoryGb, run), 1)} per 1,000 (each run)`,
  };
}
