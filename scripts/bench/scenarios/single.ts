import type { Scenario } from '../scenario';
import { throughputRow } from '../summaryRows';
import { teamsLike, throughput } from '../throughput';

export const single: Scenario = {
  name: 'single',
  description: 'one tenant, N recipients (--n=1000), fake connector at 100 ms with Teams-like throttling; baseline: the seed\'s loop on --baseline-n=200',
  async run(context) {
    const n = context.flag('n', 1_000);
    const result = await throughput(context, {
      name: 'single',
      title: `one tenant, N=${n}`,
      connector: teamsLike,
      tenants: 1,
      perTenant: n,
      baselineN: context.flag('baseline-n', 200),
    });
    return [throughputRow(`one tenant, N=${n}`, result, 47.5)];
  },
};
