import type { Scenario } from '../scenario';
import { teamsLike } from '../throughput';
import { oneTenant } from './oneTenant';

export const limit: Scenario = {
  name: 'limit',
  description: 'as single (one run), but the channel allows only --channel-limit=30 per second per tenant while NOTIFY_TENANT_RATE_PER_SECOND stays 50',
  async run(context) {
    const channelLimit = context.flag('channel-limit', 30);
    const { rows } = await oneTenant(context, {
      name: 'limit',
      title: `one tenant, 100 ms, channel limit ${channelLimit}/s, setting 50/s`,
      connector: { ...teamsLike, throttle: { perTenantPerSecond: channelLimit, perConversationPerSecond: 7 } },
      target: { minPerSecond: 0.9 * channelLimit, maxThrottled: 0.05 },
      compareWith: `the limit: ${channelLimit}/s`,
    });
    return rows;
  },
};
