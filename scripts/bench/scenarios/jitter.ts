import type { Scenario } from '../scenario';
import { teamsLike } from '../throughput';
import { oneTenant } from './oneTenant';

export const jitter: Scenario = {
  name: 'jitter',
  description: 'as single, each request travelling a random 0 to --jitter-ms=30 ms before the connector counts it (arrival order shuffled), --repeats=3 runs; no baseline',
  async run(context) {
    const jitterMs = context.flag('jitter-ms', 30);
    const single = context.figures.get('single.median');
    const { rows } = await oneTenant(context, {
      name: 'jitter',
      title: `one tenant, 100 ms + 0-${jitterMs} ms jitter`,
      connector: { ...teamsLike, jitterMs },
      repeats: context.flag('repeats', 3),
      target: { minPerSecond: 47.5, maxOwnThrottled: 0.01 },
      ...(single !== undefined ? { compareWith: `no jitter: median ${single.toFixed(1)}/s` } : {}),
    });
    return rows;
  },
};
