import { benchSettings, engineRun, measure, printComparison } from '../measure';
import { SyntheticConversationStore } from '../references';
import { withConnector } from '../remoteConnector';
import type { Scenario } from '../scenario';
import { countsOf } from '../summaryRows';

export const memory: Scenario = {
  name: 'memory',
  description: '--memory-n=100000 references over 100 tenants, fake connector with no latency and no throttling, rate limit 100,000/s per tenant: sends/s and RSS; no baseline',
  async run(context) {
    const count = context.flag('memory-n', 100_000);
    const tenants = 100;
    return withConnector({ latencyMs: 0 }, async (connector) => {
      const settings = benchSettings('UseDevelopmentStorage=true', 'benchmemory', {
        NOTIFY_TENANT_RATE_PER_SECOND: '100000',
        NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000',
      });
      const store = new SyntheticConversationStore(count, tenants, connector.serviceUrl);
      const rssAt: number[] = [];
      const engine = await measure('engine', count, connector, async () => {
        const timer = setInterval(() => rssAt.push(process.memoryUsage.rss() / 2 ** 20), 2_000);
        const result = await engineRun(settings, store);
        clearInterval(timer);
        return { ...result, note: `${result.note}\nRSS every 2 s (MB): ${rssAt.map((mb) => mb.toFixed(0)).join(' ')}` };
      });
      printComparison(
        `${count} references, ${tenants} tenants, fake connector with no latency and no throttling, ` +
          `rate limit 100,000/s per tenant; references generated page by page (not seeded into Azurite); no baseline`,
        engine,
        undefined,
      );
      const rate = engine.stats.distinctDelivered / engine.seconds;
      const rss = rssAt.length > 0 ? `RSS ${Math.min(...rssAt).toFixed(0)}–${Math.max(...rssAt).toFixed(0)} MB` : `peak RSS ${engine.peakRssMb.toFixed(0)} MB`;
      return [
        {
          scenario: `${tenants} tenants, 0 ms, unthrottled, N=${count}`,
          result: `${rate.toFixed(0)} sends/s`,
          target: '≥ 1500/s, RSS flat',
          met: rate >= 1_500,
          detail: `${rss}; ${countsOf(engine)}`,
        },
      ];
    });
  },
};
