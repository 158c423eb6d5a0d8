import type { Scenario } from '../scenario';
import { throughputRow } from '../summaryRows';
import { teamsLike, throughput } from '../throughput';

export const faults: Scenario = {
  name: 'faults',
  description: 'as single, with 10% random 429 (Retry-After 1) and 2% random 503 (--n, --baseline-n)',
  async run(context) {
    const n = context.flag('n', 1_000);
    const title = `one tenant, N=${n}, 10% random 429 + 2% random 503`;
    const result = await throughput(context, {
      name: 'faults',
      title,
      connector: { ...teamsLike, randomFaults: { rate429: 0.1, rate503: 0.02, seed: 42 } },
      tenants: 1,
      perTenant: n,
      baselineN: context.flag('baseline-n', 200),
    });
    return [throughputRow(title, result, 40)];
  },
};
