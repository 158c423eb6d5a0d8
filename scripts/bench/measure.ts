import type { ConversationReference } from 'botbuilder';
import { createAdapter } from '../../shared/bot/adapter';
import type { BroadcastSummary } from '../../shared/delivery/broadcastTypes';
import type { Logger } from '../../shared/logger';
import { createServices } from '../../shared/services';
import { loadSettings, type Settings } from '../../shared/settings';
import { listAll, type ConversationStore } from '../../shared/storage/conversationStore';
import type { ConnectorStats, RemoteConnector } from './remoteConnector';

/** Timing one phase (engine or baseline) against the fake connector, and printing it. */

export interface Measured {
  readonly label: string;
  /** Recipients not delivered but reported (failed or notAttempted in the summary): not lost. */
  readonly reported: number;
  /** Date.now() when the phase began. */
  readonly startedAt: number;
  readonly attempted: number;
  readonly seconds: number;
  readonly stats: ConnectorStats;
  readonly peakRssMb: number;
  /** CPU time (user + system) of this process during the phase, in ms: less noisy than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly note: string;
  /** The engine's summary (undefined for a baseline). */
  readonly summary?: BroadcastSummary;
}

export interface PhaseResult {
  readonly note: string;
  readonly reported: number;
  readonly summary?: BroadcastSummary;
}

export async function measure(
  label: string,
  attempted: number,
  connector: RemoteConnector,
  work: () => Promise<PhaseResult>,
): Promise<Measured> {
  await connector.reset();
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const startedAt = Date.now();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await work();
  const seconds = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  // Let the throttling windows empty before the next phase.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const cpuMs = (cpu.user + cpu.system) / 1_000;
  return { label, attempted, seconds, startedAt, stats: await connector.stats(), peakRssMb: peakRss / 2 ** 20, cpuMs, ...result };
}

export const quietLogger: Logger = { log: () => {}, warn: () => {}, error: (...args) => console.error('  [engine error]', ...args) };

export function benchSettings(storageConnectionString: string, table: string, overrides: Record<string, string> = {}): Settings {
  return loadSettings({ AzureWebJobsStorage: storageConnectionString, CONVERSATIONS_TABLE: table, ...overrides });
}

/** One broadcast through the app's own composition root (adapter, sender, rate limiter, engine). */
export async function engineRun(settings: Settings, store: ConversationStore): Promise<PhaseResult> {
  const services = createServices(settings, { store, logger: quietLogger });
  const summary = await services.broadcast({ id: `bench-${Date.now()}`, activity: { type: 'message', text: 'Benchmark notification' } });
  return { note: describeSummary(summary), reported: summary.failed + summary.notAttempted, summary };
}

export function describeSummary(summary: BroadcastSummary): string {
  const { matched, sent, failed, pruned, retried, notAttempted, durationMs } = summary;
  return `engine summary: matched ${matched}, sent ${sent}, failed ${failed}, pruned ${pruned}, retried ${retried}, notAttempted ${notAttempted}, ${durationMs} ms`;
}

/** The seed sample: one awaited continueConversationAsync after another, default adapter (botbuilder's hidden retries on). */
export async function sequentialBaseline(settings: Settings, store: ConversationStore, limit: number): Promise<PhaseResult> {
  const adapter = createAdapter(settings, quietLogger);
  let sent = 0;
  let failed = 0;
  for await (const conversation of listAll(store)) {
    if (sent + failed >= limit) break;
    try {
      const ref = { ...conversation.reference, serviceUrl: conversation.serviceUrl } as ConversationReference;
      await adapter.continueConversationAsync(settings.microsoftAppId, ref, async (context) => {
        await context.sendActivity('Benchmark notification');
      });
      sent += 1;
    } catch {
      failed += 1;
    }
  }
  return { note: `baseline: sent ${sent}, failed ${failed}`, reported: failed };
}

export function deliveriesPerSecond(m: Measured): number {
  return m.stats.distinctDelivered / m.seconds;
}

/** Neither delivered nor reported as failed or not attempted. */
export function lostOf(m: Measured): number {
  return m.attempted - m.stats.distinctDelivered - m.reported;
}

export function printComparison(title: string, engine: Measured, baseline: Measured | undefined): void {
  const rows: Array<[string, (m: Measured) => string]> = [
    ['recipients', (m) => String(m.attempted)],
    ['seconds', (m) => m.seconds.toFixed(1)],
    ['deliveries/s', (m) => deliveriesPerSecond(m).toFixed(1)],
    ['first after (s)', (m) => ((m.stats.firstAcceptedAt - m.startedAt) / 1_000).toFixed(2)],
    ['steady rate/s', (m) => ((m.stats.distinctDelivered - 1) / ((m.stats.lastAcceptedAt - m.stats.firstAcceptedAt) / 1_000)).toFixed(1)],
    ['delivered', (m) => String(m.stats.distinctDelivered)],
    ['not delivered, reported', (m) => String(m.reported)],
    ['lost (silently)', (m) => String(lostOf(m))],
    ['duplicates', (m) => String(m.stats.duplicates)],
    ['429s received', (m) => String(m.stats.throttled)],
    ['  of which our rate', (m) => String(m.stats.throttledByRate)],
    ['HTTP requests', (m) => String(m.stats.requests)],
    ['connections opened', (m) => String(m.stats.connections)],
    ['most open at once', (m) => String(m.stats.maxOpenConnections)],
    ['peak RSS (MB)', (m) => m.peakRssMb.toFixed(0)],
    ['CPU ms per request', (m) => (m.cpuMs / Math.max(1, m.stats.requests)).toFixed(3)],
    ['CPU busy (of 1 core)', (m) => `${((100 * m.cpuMs) / 1_000 / m.seconds).toFixed(0)}%`],
    ['connector CPU busy', (m) => `${((100 * m.stats.cpuMs) / 1_000 / m.seconds).toFixed(0)}%`],
  ];
  console.log(`\n=== ${title}`);
  console.log(`${''.padEnd(24)}${'engine'.padStart(12)}${'baseline'.padStart(12)}`);
  for (const [name, value] of rows) {
    console.log(`${name.padEnd(24)}${value(engine).padStart(12)}${(baseline === undefined ? '-' : value(baseline)).padStart(12)}`);
  }
  console.log(engine.note);
  if (baseline !== undefined) console.log(baseline.note);
  if (baseline !== undefined) console.log(`ratio (engine / baseline deliveries/s): ${(deliveriesPerSecond(engine) / deliveriesPerSecond(baseline)).toFixed(1)}x`);
}
