import type { Scenario } from '../scenario';
import { teamsLike } from '../throughput';
import { oneTenant } from './oneTenant';

export const single: Scenario = {
  name: 'single',
  description:
    'one tenant, --n=1000 recipients, fake connector at 100 ms with Teams-like throttling, --repeats=3 runs; baseline: the seed\'s loop on --baseline-n=200',
  async run(context) {
    const { rows, median } = await oneTenant(context, {
      name: 'single',
      title: 'one tenant, 100 ms',
      connector: teamsLike,
      repeats: context.flag('repeats', 3),
      baselineN: context.flag('baseline-n', 200),
      target: { minPerSecond: 47.5, maxOwnThrottled: 0 },
    });
    context.figures.set('single.median', median);
    return rows;
  },
};
