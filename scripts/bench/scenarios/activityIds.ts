import type { DeliveryLedger, DeliveryLedgerAccess, DeliveryLedgerReading, DeliveryLedgerRemoval, DeliveryLedgers, LedgerOpenOptions } from '../../../shared/ledgers/deliveryLedgers';
import { TableDeliveryLedgers } from '../../../shared/ledgers/tableDeliveryLedgers';
import { TableReadReceiptStore } from '../../../shared/engagement/tableReadReceiptStore';
import { startAzurite, type RunningAzurite } from '../../azurite';
import { startQueueWorkers } from '../../queueWorkers';
import { benchSettings, deliveriesPerSecond, measure, type Measured } from '../measure';
import { SyntheticConversationStore } from '../references';
import { withConnector } from '../remoteConnector';
import type { Scenario, SummaryRow } from '../scenario';
import { runQueued } from './queued';

/**
 * What keeping each delivery's activity id (and revision) in the ledger costs the queued path
 * (issue 19: at most 5 % of queued throughput at 0 ms). The same queued run, `--activity-ids-n`
 * (20,000) references over 100 tenants, fake connector at 0 ms, unthrottled, done alternately
 * with the ledger as it writes now and with the ledger writing rows as before (keys only:
 * no activity ids, no revision), `--activity-ids-repeats` (3) times each; every repeat is printed.
 */
export const activityIds: Scenario = {
  name: 'activity-ids',
  description: 'cost of recording activity ids in the ledger: queued path, --activity-ids-n=20000 over 100 tenants at 0 ms, with and without ids, alternately, --activity-ids-repeats=3',
  async run(context) {
    const count = context.flag('activity-ids-n', 20_000);
    const repeats = context.flag('activity-ids-repeats', 3);
    // With the queue service (the run's shared Azurite has tables only).
    const azurite = await startAzurite({ queue: true });
    try {
      return await measureBoth(azurite, count, repeats);
    } finally {
      await azurite.stop();
    }
  },
};

async function measureBoth(azurite: RunningAzurite, count: number, repeats: number): Promise<SummaryRow[]> {
  return withConnector({ latencyMs: 0 }, async (connector) => {
    const overrides = { NOTIFY_TENANT_RATE_PER_SECOND: '100000', NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000' };
    const store = new SyntheticConversationStore(count, 100, connector.serviceUrl);
    const withIds: Measured[] = [];
    const withoutIds: Measured[] = [];
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const kind of ['without ids', 'with ids'] as const) {
        const settings = benchSettings(azurite.connectionString, `benchids${Date.now()}`, overrides);
        const ledgers = kind === 'with ids' ? new TableDeliveryLedgers(settings.conversationsStorage) : new LedgerWithoutIds(new TableDeliveryLedgers(settings.conversationsStorage));
        // A read-receipt index of its own per run: Azurite's writes slow down as a partition grows, so a shared
        // index would make each run slower than the one before whatever the ledger writes.
        const readReceipts = new TableReadReceiptStore(settings.conversationsStorage, { tableName: `${settings.conversationsTable}reads` });
        const run = await measure(kind, count, connector, () =>
          runQueued(settings, store, (services) => startQueueWorkers(azurite.connectionString, services.queued), { ledgers, readReceipts }),
        );
        (kind === 'with ids' ? withIds : withoutIds).push(run);
        console.log(`activity ids, repeat ${repeat}, ${kind}: ${deliveriesPerSecond(run).toFixed(0)} deliveries/s (${run.seconds.toFixed(1)} s, CPU ${(run.cpuMs / 1_000).toFixed(1)} s); ${run.note}`);
      }
    }
    const median = (runs: readonly Measured[]): number => {
      const rates = runs.map(deliveriesPerSecond).sort((a, b) => a - b);
      return rates[Math.floor(rates.length / 2)] ?? 0;
    };
    const cost = 1 - median(withIds) / median(withoutIds);
    // CPU of this process per delivery: on a machine others load too, wall time says more about them than about us.
    const cpuPerDelivery = (runs: readonly Measured[]): number => {
      const values = runs.map((run) => run.cpuMs / run.attempted).sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)] ?? 0;
    };
    const cpuCost = cpuPerDelivery(withIds) / cpuPerDelivery(withoutIds) - 1;
    const row: SummaryRow = {
      scenario: `queued, activity ids in the ledger, 100 tenants, 0 ms, N=${count} (median of ${repeats})`,
      result: `${median(withIds).toFixed(0)} deliveries/s with ids (${(100 * cost).toFixed(1)} % slower)`,
      baseline: `without ids ${median(withoutIds).toFixed(0)}/s`,
      target: '≤ 5 % slower',
      met: cost <= 0.05,
      detail:
        `with ids: ${withIds.map((run) => deliveriesPerSecond(run).toFixed(0)).join(', ')}/s; without: ${withoutIds.map((run) => deliveriesPerSecond(run).toFixed(0)).join(', ')}/s; ` +
        `CPU per delivery ${(1_000 * cpuPerDelivery(withIds)).toFixed(0)} µs with ids vs ${(1_000 * cpuPerDelivery(withoutIds)).toFixed(0)} µs (${(100 * cpuCost).toFixed(1)} %)`,
    };
    return [row];
  });
}

/** The ledger writing delivery rows as before activity ids were kept: keys only, no ids, no revision. */
class LedgerWithoutIds implements DeliveryLedgers, DeliveryLedgerAccess, DeliveryLedgerReading, DeliveryLedgerRemoval {
  constructor(private readonly inner: TableDeliveryLedgers) {}

  claim: DeliveryLedgers['claim'] = (...args) => this.inner.claim(...args);
  openMarks: DeliveryLedgerAccess['openMarks'] = (...args) => this.inner.openMarks(...args);
  deliveredKeys: DeliveryLedgerReading['deliveredKeys'] = (name) => this.inner.deliveredKeys(name);
  entries: DeliveryLedgerReading['entries'] = (name) => this.inner.entries(name);
  removeLedgers: DeliveryLedgerRemoval['removeLedgers'] = (...args) => this.inner.removeLedgers(...args);

  open(ledgerName: string, options: LedgerOpenOptions = {}): DeliveryLedger {
    const ledger = this.inner.open(ledgerName, options.groupWindowMs === undefined ? {} : { groupWindowMs: options.groupWindowMs });
    return { wasDelivered: (key) => ledger.wasDelivered(key), recordDelivered: (key) => ledger.recordDelivered(key) };
  }
}
