import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../azurite';
import { startQueueWorkers } from '../../queueWorkers';
import { createServices, type ServiceOverrides, type Services } from '../../../shared/services';
import type { Settings } from '../../../shared/settings';
import type { ConversationStore } from '../../../shared/storage/conversationStore';
import { TableConversationStore } from '../../../shared/storage/tableConversationStore';
import { benchSettings, deliveriesPerSecond, engineRun, measure, printComparison, quietLogger, type PhaseResult } from '../measure';
import { SyntheticConversationStore, seedTable } from '../references';
import { withConnector } from '../remoteConnector';
import type { QueueWorkerChildOptions } from '../queueWorkerChild';
import type { Scenario, SummaryRow } from '../scenario';
import { countsOf } from '../summaryRows';
import { teamsLike } from '../throughput';

/**
 * Queued notifications (issue 10): the path of POST /api/notifications, with
 * the queue triggers' work run in this process by startQueueWorkers (24 at once
 * per queue, as the local host's batchSize 8 + newBatchThreshold 16), on an
 * Azurite of its own with the queue service.
 *
 * - `--queued-n` (100,000) references over 100 tenants, fake connector at 0 ms,
 *   no throttling: the queued path against the in-process engine on the same
 *   (generated) references, deliveries/s and RSS; then the same with the queue
 *   work done by `--queued-instances` (2) child processes, as a function app
 *   scaled out to that many instances (on this one machine's cores).
 * - 10 tenants x 500 at 100 ms with Teams-like throttling: deliveries/s against 500/s, and the
 *   in-process engine on the same references in the same run.
 */
export const queued: Scenario = {
  name: 'queued',
  description: 'queued notifications: --queued-n=100000 references over 100 tenants at 0 ms, queued vs in-process engine (deliveries/s, RSS); 10 tenants x 500 at 100 ms, Teams-like throttling, against 500/s',
  async run(context) {
    const azurite = await startAzurite({ queue: true });
    try {
      const rows: SummaryRow[] = [];
      rows.push(...(await unthrottled(azurite, context.flag('queued-n', 100_000), context.flag('queued-instances', 2))));
      rows.push(...(await tenThrottled(azurite)));
      return rows;
    } finally {
      await azurite.stop();
    }
  },
};

async function unthrottled(azurite: RunningAzurite, count: number, instances: number): Promise<SummaryRow[]> {
  const tenants = 100;
  return withConnector({ latencyMs: 0 }, async (connector) => {
    const table = `benchqueued${Date.now()}`;
    const overrides = { NOTIFY_TENANT_RATE_PER_SECOND: '100000', NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000' };
    const settings = benchSettings(azurite.connectionString, table, overrides);
    const store = new SyntheticConversationStore(count, tenants, connector.serviceUrl);
    const engine = await measure('engine', count, connector, () => engineRun(settings, store));
    const rssAt: number[] = [];
    const queuedRun = await measure('queued', count, connector, async () => {
      const timer = setInterval(() => rssAt.push(process.memoryUsage.rss() / 2 ** 20), 2_000);
      try {
        return await runQueued(settings, store, (services) => startQueueWorkers(azurite.connectionString, services.queued));
      } finally {
        clearInterval(timer);
      }
    });
    printComparison(`queued: ${count} references over ${tenants} tenants, 0 ms, unthrottled (left: queued path; right column: in-process engine)`, queuedRun, engine);
    console.log(`queued RSS every 2 s (MB): ${rssAt.map((mb) => mb.toFixed(0)).join(' ')}`);
    const rate = deliveriesPerSecond(queuedRun);
    const engineRate = deliveriesPerSecond(engine);
    const rss = rssAt.length > 0 ? `RSS ${Math.min(...rssAt).toFixed(0)}–${Math.max(...rssAt).toFixed(0)} MB` : `peak RSS ${queuedRun.peakRssMb.toFixed(0)} MB`;
    const rows: SummaryRow[] = [
      {
        scenario: `queued, ${tenants} tenants, 0 ms, N=${count}`,
        result: `${rate.toFixed(0)} deliveries/s (${((100 * rate) / engineRate).toFixed(0)} % of the engine)`,
        baseline: `engine ${engineRate.toFixed(0)}/s`,
        target: '≥ 80 % of the engine, RSS flat',
        met: rate >= 0.8 * engineRate,
        detail: `${rss}; ${countsOf(queuedRun)}`,
      },
    ];
    if (instances < 2) return rows;
    const children: QueueWorkerChildOptions = { connectionString: azurite.connectionString, table, overrides, synthetic: { count, tenants, serviceUrl: connector.serviceUrl } };
    const spread = await measure('queued', count, connector, () => runQueued(settings, store, () => startWorkerProcesses(instances, children)));
    printComparison(`queued: the same, queue work in ${instances} processes (instances) (left: queued path; right column: in-process engine)`, spread, engine);
    const spreadRate = deliveriesPerSecond(spread);
    rows.push({
      scenario: `queued, ${instances} instances, 100 tenants, 0 ms, N=${count}`,
      result: `${spreadRate.toFixed(0)} deliveries/s (${((100 * spreadRate) / engineRate).toFixed(0)} % of the engine)`,
      baseline: `engine ${engineRate.toFixed(0)}/s`,
      target: '≥ 80 % of the engine',
      met: spreadRate >= 0.8 * engineRate,
      detail: `${countsOf(spread)} (CPU and RSS: the submitting process only)`,
    });
    return rows;
  });
}

/** `count` child processes doing the queue work, each with its own services, like instances of the app. */
async function startWorkerProcesses(count: number, options: QueueWorkerChildOptions): Promise<{ stop(): Promise<void> }> {
  const children = Array.from({ length: count }, () => fork(join(__dirname, '..', 'queueWorkerChild.js'), [JSON.stringify(options)], { stdio: 'inherit' }));
  await Promise.all(children.map((child) => once(child, 'message')));
  return {
    stop: async () => {
      const exited = children.map((child) => once(child, 'exit'));
      for (const child of children) child.send({ command: 'stop' });
      await Promise.all(exited);
    },
  };
}

async function tenThrottled(azurite: RunningAzurite): Promise<SummaryRow[]> {
  return withConnector(teamsLike, async (connector) => {
    const settings = benchSettings(azurite.connectionString, `benchqueuedten${Date.now()}`);
    const store = new TableConversationStore(settings.conversationsStorage, settings.conversationsTable);
    await seedTable(store, connector.serviceUrl, 10, 500);
    const engine = await measure('engine', 5_000, connector, () => engineRun(settings, store));
    const queuedRun = await measure('queued', 5_000, connector, () =>
      runQueued(settings, store, (services) => startQueueWorkers(azurite.connectionString, services.queued)),
    );
    printComparison('queued: 10 tenants x 500, 100 ms, Teams-like throttling, from POST to completed (left: queued path; right column: in-process engine)', queuedRun, engine);
    const rate = deliveriesPerSecond(queuedRun);
    return [
      {
        scenario: 'queued, 10 tenants x 500, 100 ms',
        result: `${rate.toFixed(1)}/s`,
        baseline: `engine ${deliveriesPerSecond(engine).toFixed(1)}/s`,
        target: '≥ 475/s (95 % of 500/s)',
        met: rate >= 475,
        detail: countsOf(queuedRun),
      },
    ];
  });
}

/** Submits one queued notification and lets `startWorkers` do the queue work until it has ended. */
export async function runQueued(
  settings: Settings,
  store: ConversationStore,
  /** Starts the queue work: in this process, with its services, or elsewhere. */
  startWorkers: (services: Services) => { stop(): Promise<void> } | Promise<{ stop(): Promise<void> }>,
  overrides: ServiceOverrides = {},
): Promise<PhaseResult> {
  const services = createServices(settings, { store, logger: quietLogger, ...overrides });
  const workers = await startWorkers(services);
  try {
    return await sendQueued(services, `bench-queued-${Date.now()}`);
  } finally {
    await workers.stop();
  }
}

/** Submits one queued notification under `id` and waits until the workers (started by the caller) have ended it. */
export async function sendQueued(services: Services, id: string): Promise<PhaseResult> {
  const submitted = await services.queued.submit({ id, activity: { type: 'message', text: 'Benchmark notification' } });
  if (submitted.kind !== 'accepted') throw new Error(`not accepted: ${submitted.kind}`);
  // The state alone (one row) while it runs: the whole status sums every tenant's work row, and this
  // process is also a worker. The workers end the notification themselves.
  for (;;) {
    const state = await services.queued.deps.notifications.stateOf(id);
    if (state !== undefined && state !== 'queued' && state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const status = await services.queued.status(id);
  return {
    note: `queued status: ${status?.state}, matched ${status?.matched}, sent ${status?.sent}, failed ${status?.failed}, alreadySent ${status?.alreadySent}, pending ${status?.pending}, retried ${status?.retried}`,
    reported: (status?.failed ?? 0) + (status?.pending ?? 0),
  };
}
