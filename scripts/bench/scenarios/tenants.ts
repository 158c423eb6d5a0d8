import { deliveriesPerSecond } from '../measure';
import type { Scenario } from '../scenario';
import { throughputRow } from '../summaryRows';
import { teamsLike, throughput } from '../throughput';

export const tenants: Scenario = {
  name: 'tenants',
  description: '10 tenants x 200 recipients, Teams-like throttling per tenant; baseline: the seed\'s loop on --baseline-n=200',
  async run(context) {
    const { engines, baseline } = await throughput(context, {
      name: 'tenants',
      title: '10 tenants x 200',
      connector: teamsLike,
      tenants: 10,
      perTenant: 200,
      baselineN: context.flag('baseline-n', 200),
    });
    const baselineText = baseline === undefined ? undefined : `seed loop ${deliveriesPerSecond(baseline).toFixed(1)}/s`;
    return engines.map((engine) => throughputRow('10 tenants x 200, 100 ms', engine, { minPerSecond: 475 }, baselineText));
  },
};
