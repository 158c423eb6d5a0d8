import type { FakeConnectorOptions } from '../fakeConnector';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { benchSettings, engineRun, measure, printComparison, sequentialBaseline, type Measured } from './measure';
import { seedTable } from './references';
import { withConnector } from './remoteConnector';
import type { BenchContext } from './scenario';

/** Fake Bot Connector at 100 ms, throttling like Teams (50/s per tenant, 7/s per conversation). */
export const teamsLike: FakeConnectorOptions = { latencyMs: 100, throttle: { perTenantPerSecond: 50, perConversationPerSecond: 7 } };

export interface ThroughputPlan {
  /** Names the Azurite table. */
  readonly name: string;
  readonly title: string;
  readonly connector: FakeConnectorOptions;
  readonly tenants: number;
  readonly perTenant: number;
  /** App settings on top of the defaults. */
  readonly settings?: Record<string, string>;
  /** Engine runs over the same references, each measured and printed on its own. Default 1. */
  readonly repeats?: number;
  /** Recipients the seed sample's sequential loop sends to in the same run, after the engine (0: no baseline). */
  readonly baselineN: number;
  /** Started before the engine runs, stopped after them (e.g. a CPU hog); the baseline runs without it. */
  readonly beside?: () => Promise<() => Promise<void>>;
}

export interface ThroughputResult {
  /** One per repeat. */
  readonly engines: readonly Measured[];
  readonly baseline?: Measured;
}

/** Seeds Azurite, broadcasts with the engine (`repeats` times), then (optionally) runs the seed's loop on the same references. */
export async function throughput(context: BenchContext, plan: ThroughputPlan): Promise<ThroughputResult> {
  return withConnector(plan.connector, async (connector) => {
    const settings = benchSettings(context.azurite.connectionString, `bench${plan.name}${Date.now()}`, plan.settings);
    const store = new TableConversationStore(settings.conversationsStorage, settings.conversationsTable);
    await seedTable(store, connector.serviceUrl, plan.tenants, plan.perTenant);
    const total = plan.tenants * plan.perTenant;
    const repeats = plan.repeats ?? 1;
    const engines: Measured[] = [];
    const stopBeside = await plan.beside?.();
    try {
      for (let run = 1; run <= repeats; run++) {
        const engine = await measure('engine', total, connector, () => engineRun(settings, store));
        engines.push(engine);
        if (run < repeats) printComparison(`${plan.title} (run ${run} of ${repeats})`, engine, undefined);
      }
    } finally {
      await stopBeside?.();
    }
    const last = engines[engines.length - 1];
    if (last === undefined) throw new Error('no engine run');
    const runLabel = repeats > 1 ? ` (run ${repeats} of ${repeats})` : '';
    const baselineN = Math.min(plan.baselineN, total);
    if (baselineN <= 0) {
      printComparison(`${plan.title}${runLabel}`, last, undefined);
      return { engines };
    }
    const baseline = await measure('baseline', baselineN, connector, () => sequentialBaseline(settings, store, baselineN));
    const smaller = baselineN < total ? `; baseline on the first ${baselineN}: a sequential loop over all ${total} would take too long` : '';
    printComparison(`${plan.title}${runLabel}${smaller}`, last, baseline);
    return { engines, baseline };
  });
}
