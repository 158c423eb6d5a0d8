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
  /** Recipients the seed sample's sequential loop sends to in the same run (0: no baseline). */
  readonly baselineN: number;
}

export interface ThroughputResult {
  readonly engine: Measured;
  readonly baseline?: Measured;
}

/** Seeds Azurite, broadcasts with the engine, then (optionally) runs the seed's loop on the same references. */
export async function throughput(context: BenchContext, plan: ThroughputPlan): Promise<ThroughputResult> {
  return withConnector(plan.connector, async (connector) => {
    const settings = benchSettings(context.azurite.connectionString, `bench${plan.name}${Date.now()}`, plan.settings);
    const store = new TableConversationStore(settings.conversationsStorage, settings.conversationsTable);
    await seedTable(store, connector.serviceUrl, plan.tenants, plan.perTenant);
    const total = plan.tenants * plan.perTenant;
    const engine = await measure('engine', total, connector, () => engineRun(settings, store));
    const baselineN = Math.min(plan.baselineN, total);
    if (baselineN <= 0) {
      printComparison(plan.title, engine, undefined);
      return { engine };
    }
    const baseline = await measure('baseline', baselineN, connector, () => sequentialBaseline(settings, store, baselineN));
    const smaller = baselineN < total ? ` (baseline on the first ${baselineN}: a sequential loop over all ${total} would take too long)` : '';
    printComparison(`${plan.title}${smaller}`, engine, baseline);
    return { engine, baseline };
  });
}
