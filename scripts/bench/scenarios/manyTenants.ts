import type { ConversationReference } from 'botbuilder';
import { createAdapter } from '../../../shared/bot/adapter';
import { listAll, type ConversationStore } from '../../../shared/storage/conversationStore';
import type { Settings } from '../../../shared/settings';
import { benchSettings, deliveriesPerSecond, engineRun, measure, printComparison, quietLogger, type PhaseResult } from '../measure';
import { SyntheticConversationStore } from '../references';
import { withConnector } from '../remoteConnector';
import type { Scenario } from '../scenario';
import { countsOf } from '../summaryRows';

/**
 * Bare botbuilder, as fast as it goes: `concurrency` continueConversationAsync at a time through a
 * default CloudAdapter (a new connector client per send, botbuilder's own retries), no rate limit.
 */
async function bareBotbuilder(settings: Settings, store: ConversationStore, limit: number, concurrency: number): Promise<PhaseResult> {
  const adapter = createAdapter(settings, quietLogger);
  const references = listAll(store)[Symbol.asyncIterator]();
  let taken = 0;
  let sent = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (taken < limit) {
      taken += 1;
      const next = await references.next();
      if (next.done === true) return;
      const ref = { ...next.value.reference, serviceUrl: next.value.serviceUrl } as ConversationReference;
      try {
        await adapter.continueConversationAsync(settings.microsoftAppId, ref, async (context) => void (await context.sendActivity('Benchmark notification')));
        sent += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { note: `bare botbuilder (${concurrency} at a time): sent ${sent}, failed ${failed}`, reported: failed };
}

/** Flat: the highest RSS of the second half of the run is within 10 % of the highest of the first half. */
function isFlat(samplesMb: readonly number[]): boolean {
  const half = Math.floor(samplesMb.length / 2);
  if (half === 0) return true;
  return Math.max(...samplesMb.slice(half)) <= 1.1 * Math.max(...samplesMb.slice(0, half));
}

export const manyTenants: Scenario = {
  name: 'manyTenants',
  description:
    '--many-n=100000 references over 100 tenants, fake connector with no latency and no throttling, rate limit 100,000/s per tenant: ' +
    'sends/s and RSS; baseline: bare botbuilder, NOTIFY_CONCURRENCY at a time, on the first --many-baseline-n=20000',
  async run(context) {
    const count = context.flag('many-n', 100_000);
    const baselineN = Math.min(count, context.flag('many-baseline-n', 20_000));
    const tenants = 100;
    return withConnector({ latencyMs: 0 }, async (connector) => {
      const settings = benchSettings('UseDevelopmentStorage=true', 'benchmany', {
        NOTIFY_TENANT_RATE_PER_SECOND: '100000',
        NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000',
      });
      const store = new SyntheticConversationStore(count, tenants, connector.serviceUrl);
      const rssMb: number[] = [];
      const engine = await measure('engine', count, connector, async () => {
        const timer = setInterval(() => rssMb.push(process.memoryUsage.rss() / 2 ** 20), 2_000);
        const result = await engineRun(settings, store);
        clearInterval(timer);
        return { ...result, note: `${result.note}\nRSS every 2 s (MB): ${rssMb.map((mb) => mb.toFixed(0)).join(' ')}` };
      });
      const baseline =
        baselineN > 0 ? await measure('baseline', baselineN, connector, () => bareBotbuilder(settings, store, baselineN, settings.concurrency)) : undefined;
      printComparison(
        `${count} references, ${tenants} tenants, no latency, no throttling, rate limit 100,000/s per tenant; references generated page by page` +
          (baseline !== undefined ? `; baseline: bare botbuilder on the first ${baselineN}` : ''),
        engine,
        baseline,
      );
      const rate = deliveriesPerSecond(engine);
      const flat = isFlat(rssMb);
      const rss = rssMb.length > 0 ? `RSS ${Math.min(...rssMb).toFixed(0)}-${Math.max(...rssMb).toFixed(0)} MB (${flat ? 'flat' : 'growing'})` : '';
      return [
        {
          scenario: `100 tenants, 0 ms, unthrottled, N=${count}`,
          result: `${rate.toFixed(0)} sends/s`,
          ...(baseline !== undefined ? { baseline: `bare botbuilder ${deliveriesPerSecond(baseline).toFixed(0)}/s` } : {}),
          target: '≥ 1500/s, RSS flat',
          met: rate >= 1_500 && flat,
          detail: `${rss}; ${countsOf(engine)}`,
        },
      ];
    });
  },
};
