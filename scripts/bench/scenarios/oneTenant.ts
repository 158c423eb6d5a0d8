import type { FakeConnectorOptions } from '../../fakeConnector';
import { deliveriesPerSecond } from '../measure';
import type { BenchContext, SummaryRow } from '../scenario';
import { spread, throughputRow, type Target } from '../summaryRows';
import { throughput, type ThroughputPlan } from '../throughput';

/** What the one-tenant scenarios (single, jitter, hog, faults, limit) share: N recipients of one tenant, run `repeats` times. */
export interface OneTenantPlan {
  readonly name: string;
  readonly title: string;
  readonly connector: FakeConnectorOptions;
  readonly target: Target;
  readonly repeats?: number;
  readonly baselineN?: number;
  readonly settings?: Record<string, string>;
  readonly beside?: ThroughputPlan['beside'];
  /** The baseline column when there is no seed-loop baseline (e.g. another scenario's figure). */
  readonly compareWith?: string;
}

export async function oneTenant(context: BenchContext, plan: OneTenantPlan): Promise<{ rows: SummaryRow[]; median: number }> {
  const n = context.flag('n', 1_000);
  const repeats = plan.repeats ?? 1;
  const { engines, baseline } = await throughput(context, {
    name: plan.name,
    title: `${plan.title}, N=${n}`,
    connector: plan.connector,
    tenants: 1,
    perTenant: n,
    repeats,
    baselineN: plan.baselineN ?? 0,
    ...(plan.settings !== undefined ? { settings: plan.settings } : {}),
    ...(plan.beside !== undefined ? { beside: plan.beside } : {}),
  });
  const baselineText = baseline !== undefined ? `seed loop ${deliveriesPerSecond(baseline).toFixed(1)}/s` : plan.compareWith;
  const rows = engines.map((engine, i) =>
    throughputRow(repeats > 1 ? `${plan.title} (run ${i + 1}/${repeats})` : plan.title, engine, plan.target, baselineText),
  );
  if (repeats > 1) console.log(`${plan.title}: ${spread(engines)} over ${repeats} runs`);
  const rates = engines.map(deliveriesPerSecond).sort((a, b) => a - b);
  return { rows, median: rates[Math.floor((rates.length - 1) / 2)] ?? 0 };
}
