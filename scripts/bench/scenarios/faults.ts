import type { Scenario } from '../scenario';
import { teamsLike } from '../throughput';
import { oneTenant } from './oneTenant';

export const faults: Scenario = {
  name: 'faults',
  description: 'as single (one run), with 10% random 429 (Retry-After 1) and 2% random 503; baseline: the seed\'s loop on --faults-baseline-n=100',
  async run(context) {
    const { rows } = await oneTenant(context, {
      name: 'faults',
      title: 'one tenant, 100 ms, 10% random 429 + 2% random 503',
      connector: { ...teamsLike, randomFaults: { rate429: 0.1, rate503: 0.02, seed: 42 } },
      baselineN: context.flag('faults-baseline-n', 100),
      target: { minPerSecond: 40, retriesCounted: true },
    });
    return rows;
  },
};
