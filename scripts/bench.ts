/**
 * Delivery benchmark: `npm run bench [-- scenario... --n=1000 --baseline-n=200 --memory-n=100000]`.
 * Scenarios: single, faults, tenants, memory (default: all). Prints figures, asserts nothing.
 *
 * The fake Bot Connector runs in a child process (its own event loop, and its
 * records of 100,000 deliveries do not count in our RSS). References are seeded
 * into Azurite, started here, except for `memory`, which lists a generated store
 * (see SyntheticConversationStore) so that seeding 100,000 rows does not dominate the run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { ConversationReference } from 'botbuilder';
import { startAzurite, type RunningAzurite } from './azurite';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from './fakeConnector';
import { createAdapter } from '../shared/bot/adapter';
import type { BroadcastSummary } from '../shared/delivery/broadcastTypes';
import {
  listAll,
  toStoredConversation,
  type ConversationKey,
  type ConversationPage,
  type ConversationStore,
  type ListOptions,
  type StoredConversation,
} from '../shared/storage/conversationStore';
import type { Logger } from '../shared/logger';
import { createServices } from '../shared/services';
import { loadSettings, type Settings } from '../shared/settings';
import { TableConversationStore } from '../shared/storage/tableConversationStore';

// ---- the fake connector, in a child process -----------------------------------------------------

interface ConnectorStats {
  /** Date.now() of the first and last accepted delivery. */
  readonly firstAcceptedAt: number;
  readonly lastAcceptedAt: number;
  readonly requests: number;
  readonly throttled: number;
  readonly distinctDelivered: number;
  readonly duplicates: number;
}

type ChildCommand = { readonly command: 'stats' } | { readonly command: 'reset' } | { readonly command: 'stop' };
type ChildMessage = { readonly serviceUrl: string } | { readonly stats: ConnectorStats } | { readonly done: true };

const childFlag = '--fake-connector-child';

async function runConnectorChild(options: FakeConnectorOptions): Promise<void> {
  const connector = await startFakeConnector(options);
  const reply = (message: ChildMessage): void => void process.send?.(message);
  process.on('message', (message: ChildCommand) => {
    if (message.command === 'stats') reply({ stats: statsOf(connector) });
    if (message.command === 'reset') {
      connector.reset();
      reply({ done: true });
    }
    if (message.command === 'stop') void connector.stop().then(() => process.exit(0));
  });
  reply({ serviceUrl: connector.serviceUrl });
}

function statsOf(connector: FakeConnector): ConnectorStats {
  return {
    firstAcceptedAt: connector.received[0]?.receivedAt ?? 0,
    lastAcceptedAt: connector.received[connector.received.length - 1]?.receivedAt ?? 0,
    requests: connector.requests,
    throttled: connector.throttled,
    distinctDelivered: new Set(connector.received.map((activity) => activity.conversationId)).size,
    duplicates: connector.duplicates().size,
  };
}

class RemoteConnector {
  private constructor(
    private readonly child: ChildProcess,
    readonly serviceUrl: string,
  ) {}

  static async start(options: FakeConnectorOptions): Promise<RemoteConnector> {
    const child = fork(__filename, [childFlag, JSON.stringify(options)], { stdio: 'inherit' });
    const [message] = (await once(child, 'message')) as [ChildMessage];
    if (!('serviceUrl' in message)) throw new Error('fake connector child did not start');
    return new RemoteConnector(child, message.serviceUrl);
  }

  async stats(): Promise<ConnectorStats> {
    const message = await this.ask({ command: 'stats' });
    if (!('stats' in message)) throw new Error('fake connector child sent no stats');
    return message.stats;
  }

  async reset(): Promise<void> {
    await this.ask({ command: 'reset' });
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.send({ command: 'stop' });
    await exited;
  }

  private async ask(command: ChildCommand): Promise<ChildMessage> {
    const answer = once(this.child, 'message') as Promise<[ChildMessage]>;
    this.child.send(command);
    return (await answer)[0];
  }
}

// ---- stores ---------------------------------------------------------------------------------------

function reference(serviceUrl: string, conversationId: string, tenantId: string): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: conversationId, tenantId, conversationType: 'personal', isGroup: false, name: '' },
    bot: { id: '28:bench-bot', name: 'Bench' },
    user: { id: `29:${conversationId}`, name: '', aadObjectId: '' },
  };
}

function stored(serviceUrl: string, conversationId: string, tenantId: string): StoredConversation {
  const check = toStoredConversation(reference(serviceUrl, conversationId, tenantId));
  if (!check.ok) throw new Error(check.reason);
  return check.conversation;
}

/** Conversation ids sort by tenant, so the listing is grouped by tenant (the harder order for fairness). */
async function seedTable(store: ConversationStore, serviceUrl: string, tenants: number, perTenant: number): Promise<void> {
  const all: StoredConversation[] = [];
  for (let t = 0; t < tenants; t++) {
    for (let i = 0; i < perTenant; i++) all.push(stored(serviceUrl, `a:t${t}-c${String(i).padStart(6, '0')}`, `tenant-${t}`));
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = all[next++]; item !== undefined; item = all[next++]) await store.upsert(item);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

/** A read-only store that makes up its rows page by page: nothing is held, so RSS shows the engine alone. */
class SyntheticConversationStore implements ConversationStore {
  constructor(
    private readonly count: number,
    private readonly tenants: number,
    private readonly serviceUrl: string,
  ) {}

  async upsert(): Promise<void> {}

  async insert(): Promise<boolean> {
    return false;
  }

  async get(): Promise<StoredConversation | undefined> {
    return undefined;
  }

  async delete(_key: ConversationKey): Promise<boolean> {
    return false;
  }

  async list({ continuationToken, pageSize = 500 }: ListOptions = {}): Promise<ConversationPage> {
    const start = continuationToken === undefined ? 0 : Number(continuationToken);
    const end = Math.min(this.count, start + pageSize);
    const items: StoredConversation[] = [];
    for (let i = start; i < end; i++) items.push(stored(this.serviceUrl, `a:synthetic-${i}`, `tenant-${i % this.tenants}`));
    return end < this.count ? { items, continuationToken: String(end) } : { items };
  }
}

// ---- measuring -------------------------------------------------------------------------------------

interface Measured {
  readonly label: string;
  /** Recipients not delivered but reported (failed or notAttempted in the summary): not lost. */
  readonly reported: number;
  /** Date.now() when the phase began. */
  readonly startedAt: number;
  readonly attempted: number;
  readonly seconds: number;
  readonly stats: ConnectorStats;
  readonly peakRssMb: number;
  readonly note: string;
}

interface PhaseResult {
  readonly note: string;
  readonly reported: number;
}

async function measure(
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
  const { note, reported } = await work();
  const seconds = (performance.now() - started) / 1_000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  // Let the throttling windows empty before the next phase.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return { label, reported, startedAt, attempted, seconds, stats: await connector.stats(), peakRssMb: peakRss / 2 ** 20, note };
}

const quietLogger: Logger = { log: () => {}, warn: () => {}, error: (...args) => console.error('  [engine error]', ...args) };

function benchSettings(storageConnectionString: string, table: string, overrides: Record<string, string> = {}): Settings {
  return loadSettings({ AzureWebJobsStorage: storageConnectionString, CONVERSATIONS_TABLE: table, ...overrides });
}

async function engineRun(settings: Settings, store: ConversationStore): Promise<BroadcastSummary> {
  const services = createServices(settings, { store, logger: quietLogger });
  return services.broadcast({ id: `bench-${Date.now()}`, activity: { type: 'message', text: 'Benchmark notification' } });
}

function describeSummary(summary: BroadcastSummary): string {
  const { matched, sent, failed, pruned, retried, notAttempted, durationMs } = summary;
  return `engine summary: matched ${matched}, sent ${sent}, failed ${failed}, pruned ${pruned}, retried ${retried}, notAttempted ${notAttempted}, ${durationMs} ms`;
}

/** The seed sample: one awaited continueConversationAsync after another, default adapter (botbuilder's hidden retries on). */
async function sequentialBaseline(settings: Settings, store: ConversationStore, limit: number): Promise<PhaseResult> {
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

function printComparison(title: string, engine: Measured, baseline: Measured | undefined): void {
  const rate = (m: Measured): number => m.stats.distinctDelivered / m.seconds;
  const rows: Array<[string, (m: Measured) => string]> = [
    ['recipients', (m) => String(m.attempted)],
    ['seconds', (m) => m.seconds.toFixed(1)],
    ['deliveries/s', (m) => rate(m).toFixed(1)],
    ['first after (s)', (m) => ((m.stats.firstAcceptedAt - m.startedAt) / 1_000).toFixed(2)],
    ['steady rate/s', (m) => ((m.stats.distinctDelivered - 1) / ((m.stats.lastAcceptedAt - m.stats.firstAcceptedAt) / 1_000)).toFixed(1)],
    ['delivered', (m) => String(m.stats.distinctDelivered)],
    ['not delivered, reported', (m) => String(m.reported)],
    ['lost (silently)', (m) => String(lostOf(m))],
    ['duplicates', (m) => String(m.stats.duplicates)],
    ['429s received', (m) => String(m.stats.throttled)],
    ['HTTP requests', (m) => String(m.stats.requests)],
    ['peak RSS (MB)', (m) => m.peakRssMb.toFixed(0)],
  ];
  console.log(`\n=== ${title}`);
  console.log(`${''.padEnd(24)}${'engine'.padStart(12)}${'baseline'.padStart(12)}`);
  for (const [name, value] of rows) {
    console.log(`${name.padEnd(24)}${value(engine).padStart(12)}${(baseline === undefined ? '-' : value(baseline)).padStart(12)}`);
  }
  console.log(engine.note);
  if (baseline !== undefined) console.log(baseline.note);
  if (baseline !== undefined) console.log(`ratio (engine / baseline deliveries/s): ${(rate(engine) / rate(baseline)).toFixed(1)}x`);
}

/** Neither delivered nor reported as failed or not attempted. */
function lostOf(m: Measured): number {
  return m.attempted - m.stats.distinctDelivered - m.reported;
}

// ---- scenarios -------------------------------------------------------------------------------------

interface Options {
  readonly scenarios: readonly string[];
  readonly n: number;
  readonly baselineN: number;
  readonly memoryN: number;
}

const teamsThrottle = { perTenantPerSecond: 50, perConversationPerSecond: 7 };

async function throughputScenario(
  azurite: RunningAzurite,
  options: Options,
  name: string,
  title: string,
  connectorOptions: FakeConnectorOptions,
  tenants: number,
  perTenant: number,
): Promise<Measured> {
  const connector = await RemoteConnector.start(connectorOptions);
  try {
    const settings = benchSettings(azurite.connectionString, `bench${name}${Date.now()}`);
    const store = new TableConversationStore(settings.storageConnectionString, settings.conversationsTable);
    await seedTable(store, connector.serviceUrl, tenants, perTenant);
    const total = tenants * perTenant;
    let summary: BroadcastSummary | undefined;
    const engine = await measure('engine', total, connector, async () => {
      summary = await engineRun(settings, store);
      return { note: describeSummary(summary), reported: summary.failed + summary.notAttempted };
    });
    const baselineN = Math.min(options.baselineN, total);
    const baseline = await measure('baseline', baselineN, connector, () => sequentialBaseline(settings, store, baselineN));
    const smaller = baselineN < total ? ` (baseline on the first ${baselineN}: a sequential loop over all ${total} would take too long)` : '';
    printComparison(`${title}${smaller}`, engine, baseline);
    return engine;
  } finally {
    await connector.stop();
  }
}

async function memoryScenario(options: Options): Promise<void> {
  const connector = await RemoteConnector.start({ latencyMs: 0 });
  try {
    const tenants = 100;
    const settings = benchSettings('UseDevelopmentStorage=true', 'benchmemory', {
      NOTIFY_TENANT_RATE_PER_SECOND: '100000',
      NOTIFY_CONVERSATION_RATE_PER_SECOND: '1000',
    });
    const store = new SyntheticConversationStore(options.memoryN, tenants, connector.serviceUrl);
    const rssAt: string[] = [];
    const engine = await measure('engine', options.memoryN, connector, async () => {
      const timer = setInterval(() => {
        const { rss, heapUsed } = process.memoryUsage();
        rssAt.push(`${(rss / 2 ** 20).toFixed(0)}/${(heapUsed / 2 ** 20).toFixed(0)}`);
      }, 2_000);
      const summary = await engineRun(settings, store);
      clearInterval(timer);
      return {
        note: `${describeSummary(summary)}\nRSS/heap used every 2 s (MB): ${rssAt.join(' ')}`,
        reported: summary.failed + summary.notAttempted,
      };
    });
    printComparison(
      `${options.memoryN} references, ${tenants} tenants, fake connector with no latency and no throttling, ` +
        `rate limit 100,000/s per tenant; references generated page by page (not seeded into Azurite); no baseline`,
      engine,
      undefined,
    );
  } finally {
    await connector.stop();
  }
}

function parseOptions(argv: readonly string[]): Options {
  const flag = (name: string, fallback: number): number => {
    const raw = argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
    return raw === undefined ? fallback : Number(raw);
  };
  const named = argv.filter((arg) => !arg.startsWith('--'));
  return {
    scenarios: named.length > 0 ? named : ['single', 'faults', 'tenants', 'memory'],
    n: flag('n', 1_000),
    baselineN: flag('baseline-n', 200),
    memoryN: flag('memory-n', 100_000),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  console.log(`Scenarios: ${options.scenarios.join(', ')}; fake connector latency 100 ms, Teams-like throttling 50/s per tenant, 7/s per conversation`);
  console.log('Engine: default settings (50/s per tenant, 7/s per conversation, concurrency 64, 5 attempts). Baseline: the seed sample\'s sequential loop.');
  const azurite = await startAzurite();
  try {
    let single: Measured | undefined;
    let tenants: Measured | undefined;
    for (const scenario of options.scenarios) {
      if (scenario === 'single') {
        single = await throughputScenario(azurite, options, 'single', `one tenant, N=${options.n}`, { latencyMs: 100, throttle: teamsThrottle }, 1, options.n);
      } else if (scenario === 'faults') {
        await throughputScenario(
          azurite,
          options,
          'faults',
          `one tenant, N=${options.n}, 10% random 429 (Retry-After 1) + 2% random 503`,
          { latencyMs: 100, throttle: teamsThrottle, randomFaults: { rate429: 0.1, rate503: 0.02, seed: 42 } },
          1,
          options.n,
        );
      } else if (scenario === 'tenants') {
        tenants = await throughputScenario(azurite, options, 'tenants', '10 tenants x 200', { latencyMs: 100, throttle: teamsThrottle }, 10, 200);
      } else if (scenario === 'memory') {
        await memoryScenario(options);
      } else {
        console.log(`unknown scenario "${scenario}" (single, faults, tenants, memory)`);
      }
    }
    if (single !== undefined && tenants !== undefined) {
      const rate = (m: Measured): number => m.stats.distinctDelivered / m.seconds;
      console.log(`\n10 tenants vs one tenant (engine deliveries/s): ${(rate(tenants) / rate(single)).toFixed(1)}x`);
    }
  } finally {
    await azurite.stop();
  }
}

if (process.argv[2] === childFlag) {
  void runConnectorChild(JSON.parse(process.argv[3] ?? '{}') as FakeConnectorOptions);
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
