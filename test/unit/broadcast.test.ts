import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BroadcastEngine, type BroadcastTuning } from '../../shared/delivery/broadcast';
import type { BroadcastRequest, BroadcastSummary } from '../../shared/delivery/broadcastTypes';
import type { DeliveryLedger } from '../../shared/ledgers/deliveryLedgers';
import { FakeClock } from '../../shared/clock';
import {
  toStoredConversation,
  type ConversationKey,
  type ConversationPage,
  type ConversationStore,
  type ListOptions,
  type StoredConversation,
} from '../../shared/storage/conversationStore';
import { CredentialsError } from '../../shared/delivery/deliveryError';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { MemoryOptOutStore } from '../../shared/engagement/memoryOptOutStore';
import { OptOutFilter } from '../../shared/engagement/optOutFilter';
import type { SendActivity } from '../../shared/delivery/proactiveSender';
import { SendSlots } from '../../shared/delivery/sendSlots';
import { RateLimiter } from '../../shared/delivery/rateLimiter';
import type { Settings } from '../../shared/settings';
import { channelError, networkError } from '../support/channelErrors';
import { recordingLogger } from '../support/recordingLogger';

type EngineSettings = Pick<Settings, 'concurrency' | 'maxAttempts' | 'deadlineSeconds'>;

/** The channel's answer to attempt `attempt` (1-based) for a conversation: an error to throw, or undefined for 201. */
type Script = (conversationId: string, attempt: number) => Error | undefined;

interface SentRecord {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly attempt: number;
  readonly at: number;
  readonly ok: boolean;
}

/** A channel played by the test: latency on the fake clock, answers from the script, every attempt recorded. */
class ScriptedChannel {
  readonly attempts: SentRecord[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly attemptsByConversation = new Map<string, number>();

  constructor(
    private readonly clock: FakeClock,
    private readonly script: Script = () => undefined,
    private readonly latencyMs = 100,
  ) {}

  readonly send: SendActivity = async (conversation, _activity, options) => {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await options?.beforeWire?.(new AbortController().signal);
      const attempt = (this.attemptsByConversation.get(conversation.conversationId) ?? 0) + 1;
      this.attemptsByConversation.set(conversation.conversationId, attempt);
      const at = this.clock.now();
      await this.clock.sleep(this.latencyMs);
      const error = this.script(conversation.conversationId, attempt);
      this.attempts.push({ conversationId: conversation.conversationId, tenantId: conversation.tenantId, attempt, at, ok: !error });
      if (error) throw error;
      return `activity-${conversation.conversationId}-${attempt}`;
    } finally {
      this.inFlight -= 1;
    }
  };

  deliveries(conversationId: string): number {
    return this.attempts.filter((record) => record.ok && record.conversationId === conversationId).length;
  }

  attemptsOf(conversationId: string): number {
    return this.attempts.filter((record) => record.conversationId === conversationId).length;
  }
}

function conversation(id: string, tenantId: string): StoredConversation {
  const check = toStoredConversation({
    channelId: 'msteams',
    serviceUrl: 'https://smba.example/teams/',
    conversation: { id, tenantId, isGroup: false, conversationType: 'personal', name: '' },
    bot: { id: 'bot', name: 'bot' },
    user: { id: `user-${id}`, name: '' },
  });
  if (!check.ok) throw new Error(check.reason);
  return check.conversation;
}

async function storeWith(count: number, tenantOf: (index: number) => string = () => 'tenant-a'): Promise<MemoryConversationStore> {
  const store = new MemoryConversationStore();
  for (let i = 0; i < count; i++) await store.upsert(conversation(`c${String(i).padStart(5, '0')}`, tenantOf(i)));
  return store;
}

/** The memory store with its listing replaced (to count, slow down or break pages). */
function withList(inner: ConversationStore, list: (options?: ListOptions) => Promise<ConversationPage>): ConversationStore {
  return {
    upsert: (c) => inner.upsert(c),
    insert: (c) => inner.insert(c),
    get: (k) => inner.get(k),
    delete: (k, condition) => inner.delete(k, condition),
    list,
    listTeams: (tenantId) => inner.listTeams(tenantId),
  };
}

interface Harness {
  readonly clock: FakeClock;
  readonly channel: ScriptedChannel;
  readonly store: ConversationStore;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly limiter: RateLimiter;
  broadcast(request?: Partial<BroadcastRequest>): Promise<BroadcastSummary>;
}

function harness(
  store: ConversationStore,
  options: {
    script?: Script;
    latencyMs?: number;
    settings?: Partial<EngineSettings>;
    tenantPerSecond?: number;
    tuning?: BroadcastTuning;
    clock?: FakeClock;
    limiter?: RateLimiter;
  } = {},
): Harness {
  const clock = options.clock ?? new FakeClock();
  const channel = new ScriptedChannel(clock, options.script, options.latencyMs);
  const logger = recordingLogger();
  const limiter =
    options.limiter ??
    new RateLimiter({ tenantPerSecond: options.tenantPerSecond ?? 1_000, conversationPerSecond: 1_000 }, clock, { warmupMs: 0 });
  const settings: EngineSettings = { concurrency: 8, maxAttempts: 5, deadlineSeconds: 200, ...options.settings };
  const engine = new BroadcastEngine({
    store,
    send: channel.send,
    rateLimiter: limiter,
    clock,
    settings,
    logger,
    tuning: { backoff: { baseDelayMs: 1_000, maxDelayMs: 30_000, random: () => 0.5 }, ...options.tuning },
  });
  return {
    clock,
    channel,
    store,
    logger,
    limiter,
    broadcast: async (request = {}) => {
      const summary = await clock.run(engine.broadcast({ id: 'n1', activity: { type: 'message', text: 'hello' }, ...request }));
      assertCountsAddUp(summary);
      return summary;
    },
  };
}

function assertCountsAddUp(summary: BroadcastSummary): void {
  assert.equal(
    summary.sent + summary.failed + summary.alreadySent + summary.notAttempted + summary.optedOut,
    summary.matched,
    `counts do not add up: ${JSON.stringify({ ...summary, failures: summary.failures.length })}`,
  );
}

async function storedIds(store: ConversationStore): Promise<string[]> {
  const page = await store.list({ pageSize: 10_000 });
  // Sorted: the store lists in key order, which groups by tenant and hash bucket, not by conversation id.
  return page.items.map((item) => item.conversationId).sort();
}

describe('BroadcastEngine', () => {
  test('delivers once to every stored conversation and the summary adds up', async () => {
    const store = await storeWith(120, (i) => `tenant-${i % 3}`);
    const { broadcast, channel } = harness(store);
    const summary = await broadcast();
    assert.deepEqual(
      { matched: summary.matched, sent: summary.sent, failed: summary.failed, retried: summary.retried, notAttempted: summary.notAttempted },
      { matched: 120, sent: 120, failed: 0, retried: 0, notAttempted: 0 },
    );
    assert.equal(channel.attempts.length, 120);
    assert.ok((await storedIds(store)).every((id) => channel.deliveries(id) === 1));
  });

  test('sends only to the conversations that match the filter', async () => {
    const store = await storeWith(30, (i) => `tenant-${i % 3}`);
    const { broadcast, channel } = harness(store);
    const summary = await broadcast({ filter: { tenantIds: ['tenant-1'] } });
    assert.equal(summary.matched, 10);
    assert.ok(channel.attempts.every((record) => record.tenantId === 'tenant-1'));
  });

  test('never has more sends in flight than the concurrency setting', async () => {
    const store = await storeWith(200, (i) => `tenant-${i % 20}`);
    const { broadcast, channel } = harness(store, { latencyMs: 500, settings: { concurrency: 5 } });
    const summary = await broadcast();
    assert.equal(summary.sent, 200);
    assert.equal(channel.maxInFlight, 5);
  });

  test('broadcasts sharing the process’s send slots have no more sends in flight together than the slots, and each completes', async () => {
    const clock = new FakeClock();
    const channel = new ScriptedChannel(clock, undefined, 200);
    const limiter = new RateLimiter({ tenantPerSecond: 1_000, conversationPerSecond: 1_000 }, clock, { warmupMs: 0 });
    const sendSlots = new SendSlots(6);
    const engineOver = (store: ConversationStore): BroadcastEngine =>
      new BroadcastEngine({ store, send: channel.send, rateLimiter: limiter, sendSlots, clock, settings: { concurrency: 8, maxAttempts: 5, deadlineSeconds: 200 }, logger: recordingLogger() });
    const first = engineOver(await storeWith(60, (i) => `tenant-a${i % 4}`));
    const second = engineOver(await storeWith(60, (i) => `tenant-b${i % 4}`));
    const summaries = await clock.run(
      Promise.all([first, second].map((engine, i) => engine.broadcast({ id: `n${i}`, activity: { type: 'message', text: 'hello' } }))),
    );
    assert.deepEqual(summaries.map((summary) => summary.sent), [60, 60]);
    assert.equal(channel.maxInFlight, 6);
  });

  test('retries a 429 after its Retry-After and counts each extra attempt as retried', async () => {
    const store = await storeWith(10);
    const script: Script = (id, attempt) => (id === 'c00003' && attempt <= 2 ? channelError(429, 'Throttled', '3') : undefined);
    const { broadcast, channel } = harness(store, { script });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.retried], [10, 0, 2]);
    const [first, second, third] = channel.attempts.filter((record) => record.conversationId === 'c00003');
    assert.ok(first && second && third);
    assert.ok(second.at - first.at >= 3_100 && third.at - second.at >= 3_100, 'waited Retry-After (3 s) after each answer');
    assert.equal(channel.deliveries('c00003'), 1);
  });

  test('retries 5xx and network errors with backoff until they succeed', async () => {
    const store = await storeWith(3);
    const errors: Record<string, Error> = { c00000: channelError(503, 'ServiceUnavailable'), c00001: networkError(), c00002: channelError(412) };
    const script: Script = (id, attempt) => (attempt === 1 ? errors[id] : undefined);
    const { broadcast } = harness(store, { script });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.retried], [3, 0, 3]);
  });

  test('gives up after maxAttempts and reports the last error', async () => {
    const store = await storeWith(4);
    const script: Script = (id) => (id === 'c00001' ? channelError(503, 'ServiceUnavailable') : undefined);
    const { broadcast, channel, logger } = harness(store, { script, settings: { maxAttempts: 3 } });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.retried], [3, 1, 2]);
    assert.deepEqual(summary.failures, [
      { channelId: 'msteams', conversationId: 'c00001', status: 503, code: 'ServiceUnavailable', message: 'answered 503 ServiceUnavailable', attempts: 3, pruned: false },
    ]);
    assert.equal(channel.attemptsOf('c00001'), 3);
    assert.equal(logger.lines('warn').filter((line) => line.includes('c00001')).length, 1);
  });

  test('deletes the references of conversations that are gone (404, 403 roster/blocked/disabled) and counts them', async () => {
    const store = await storeWith(8);
    const gone: Record<string, Error> = {
      c00001: channelError(404, 'ConversationNotFound'),
      c00002: channelError(403, 'BotNotInConversationRoster'),
      c00003: channelError(403, 'ConversationBlockedByUser'),
      c00004: channelError(403, 'BotDisabledByAdmin'),
    };
    const { broadcast, channel } = harness(store, { script: (id) => gone[id] });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.pruned, summary.retried], [4, 4, 4, 0]);
    assert.ok(summary.failures.every((failure) => failure.pruned && failure.attempts === 1));
    assert.deepEqual(await storedIds(store), ['c00000', 'c00005', 'c00006', 'c00007']);
    assert.equal(channel.attempts.length, 8);
  });

  test('does not delete a reference the bot saved again while the broadcast was running', async () => {
    const store = await storeWith(2);
    const script: Script = (id) => (id === 'c00001' ? channelError(404, 'ConversationNotFound') : undefined);
    const { broadcast } = harness(store, {
      script: (id, attempt) => {
        if (id === 'c00001') void store.upsert({ ...conversation('c00001', 'tenant-a'), updatedAt: new Date(Date.now() + 60_000) });
        return script(id, attempt);
      },
    });
    const summary = await broadcast();
    assert.deepEqual([summary.failed, summary.pruned], [1, 0]);
    assert.deepEqual(await storedIds(store), ['c00000', 'c00001']);
  });

  test('keeps the reference on 403 MessageWritesBlocked and does not retry 413 MessageSizeTooBig', async () => {
    const store = await storeWith(3);
    const errors: Record<string, Error> = { c00000: channelError(403, 'MessageWritesBlocked'), c00001: channelError(413, 'MessageSizeTooBig') };
    const { broadcast, channel } = harness(store, { script: (id) => errors[id] });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.pruned, summary.retried], [1, 2, 0, 0]);
    assert.deepEqual(
      summary.failures.map((failure) => [failure.conversationId, failure.status, failure.code, failure.pruned]),
      [
        ['c00000', 403, 'MessageWritesBlocked', false],
        ['c00001', 413, 'MessageSizeTooBig', false],
      ],
    );
    assert.equal((await storedIds(store)).length, 3);
    assert.equal(channel.attempts.length, 3);
  });

  test('a 401 stops the whole run with one error naming the bot credentials; the rest are not attempted', async () => {
    const store = await storeWith(1_000);
    const { broadcast, channel, logger } = harness(store, { script: () => channelError(401), settings: { concurrency: 4 } });
    const summary = await broadcast();
    assert.match(summary.stoppedEarly ?? '', /MicrosoftAppId.*MicrosoftAppPassword/);
    assert.ok(channel.attempts.length <= 4 + 1, `${channel.attempts.length} attempts`);
    assert.equal(summary.sent, 0);
    assert.ok(summary.notAttempted >= 995);
    assert.equal(summary.retried, 0);
    assertCountsAddUp(summary);
    assert.equal(logger.lines('error').filter((line) => line.includes('MicrosoftAppPassword')).length, 1);
  });

  test('a token endpoint that cannot be reached is retried like a network error and does not stop the run', async () => {
    const store = await storeWith(5);
    const unreachable = new CredentialsError('Could not get a token for the bot', networkError('ECONNREFUSED'));
    const { broadcast, logger } = harness(store, { script: (id, attempt) => (id === 'c00002' && attempt === 1 ? unreachable : undefined) });
    const summary = await broadcast();
    assert.equal(summary.stoppedEarly, undefined);
    assert.deepEqual([summary.sent, summary.failed, summary.retried, summary.notAttempted], [5, 0, 1, 0]);
    assert.ok(!logger.lines('error').some((line) => line.includes('MicrosoftAppPassword')));
  });

  test('stops at the deadline: nothing starts after it and the rest is counted as notAttempted', async () => {
    const store = await storeWith(1_000);
    const { broadcast, channel, logger } = harness(store, { tenantPerSecond: 50, settings: { deadlineSeconds: 5 } });
    const summary = await broadcast();
    assert.ok(channel.attempts.every((record) => record.at < 5_000));
    assert.ok(summary.sent >= 240 && summary.sent <= 250, `sent ${summary.sent}`);
    assert.equal(summary.notAttempted, 1_000 - summary.sent);
    assert.equal(summary.stoppedEarly, undefined);
    assertCountsAddUp(summary);
    assert.ok(logger.lines('error').some((line) => line.includes('deadline')));
  });

  test('a deadline given with the request overrides the settings', async () => {
    const store = await storeWith(1_000);
    const { broadcast, channel } = harness(store, { tenantPerSecond: 50, settings: { deadlineSeconds: 200 } });
    const summary = await broadcast({ deadlineSeconds: 2 });
    assert.ok(channel.attempts.every((record) => record.at < 2_000));
    assert.ok(summary.notAttempted > 850, `notAttempted ${summary.notAttempted}`);
    assertCountsAddUp(summary);
  });

  test('a recipient whose retry would come after the deadline is counted as not attempted, not failed, and logged', async () => {
    const store = await storeWith(2);
    const script: Script = (id) => (id === 'c00000' ? channelError(429, 'Throttled', '60') : undefined);
    const { broadcast, logger } = harness(store, { script, settings: { deadlineSeconds: 30 } });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.notAttempted, summary.failures.length], [1, 0, 1, 0]);
    assert.ok(logger.lines('warn').some((line) => /c00000.*deadline.*429 Throttled/.test(line) || /deadline.*c00000.*429 Throttled/.test(line)));
  });

  test('retries still waiting when the deadline comes are counted as not attempted', async () => {
    const store = await storeWith(3);
    // Each answers 503 every time: backoff 1 s, 2 s, 4 s... their retries are queued when the 5 s deadline comes.
    const { broadcast } = harness(store, { script: () => channelError(503, 'ServiceUnavailable'), settings: { deadlineSeconds: 5, maxAttempts: 10 } });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.failed, summary.notAttempted], [0, 0, 3]);
  });

  test('skips recipients the ledger already holds and records new deliveries in it', async () => {
    const store = await storeWith(10);
    const delivered = new Set(['c00002', 'c00005']);
    const ledger: DeliveryLedger = {
      wasDelivered: async (key: ConversationKey) => delivered.has(key.conversationId),
      recordDelivered: async (key: ConversationKey) => void delivered.add(key.conversationId),
    };
    const { broadcast, channel } = harness(store);
    const summary = await broadcast({ ledger });
    assert.deepEqual([summary.sent, summary.alreadySent], [8, 2]);
    assert.equal(channel.attemptsOf('c00002') + channel.attemptsOf('c00005'), 0);
    assert.equal(delivered.size, 10);
    const again = await harness(store).broadcast({ ledger });
    assert.deepEqual([again.sent, again.alreadySent], [0, 10]);
  });

  test('each delivery is recorded with the id the channel gave its activity', async () => {
    const store = await storeWith(6);
    const recorded = new Map<string, string | undefined>();
    const ledger: DeliveryLedger = {
      wasDelivered: async () => false,
      recordDelivered: async (key: ConversationKey, activityId?: string) => void recorded.set(key.conversationId, activityId),
    };
    const { broadcast } = harness(store, { script: (_id, attempt) => (attempt === 1 ? channelError(503, 'ServiceUnavailable') : undefined) });
    const summary = await broadcast({ ledger });
    assert.equal(summary.sent, 6);
    assert.deepEqual([...recorded].sort(), Array.from({ length: 6 }, (_, i) => [`c0000${i}`, `activity-c0000${i}-2`]));
  });

  test('a ledger that cannot be read stops the run rather than risk sending twice', async () => {
    const store = await storeWith(20);
    const ledger: DeliveryLedger = {
      wasDelivered: async () => {
        throw new Error('ledger table unavailable');
      },
      recordDelivered: async () => undefined,
    };
    const { broadcast, channel } = harness(store);
    const summary = await broadcast({ ledger });
    assert.equal(channel.attempts.length, 0);
    assert.match(summary.stoppedEarly ?? '', /ledger.*ledger table unavailable/);
    assert.equal(summary.notAttempted, 20);
    assertCountsAddUp(summary);
  });

  test('a delivery the ledger cannot record still counts as sent, with a warning', async () => {
    const store = await storeWith(3);
    const ledger: DeliveryLedger = {
      wasDelivered: async () => false,
      recordDelivered: async () => {
        throw new Error('write refused');
      },
    };
    const { broadcast, logger } = harness(store);
    const summary = await broadcast({ ledger });
    assert.equal(summary.sent, 3);
    assert.equal(logger.lines('warn').filter((line) => line.includes('write refused')).length, 3);
  });

  test('a tenant at its rate limit does not hold up the other tenants', async () => {
    // 300 for the busy tenant are listed first; 5 for the quiet one come last.
    const store = await storeWith(305, (i) => (i < 300 ? 'busy' : 'quiet'));
    const { broadcast, channel } = harness(store, { tenantPerSecond: 50, settings: { concurrency: 64 } });
    await broadcast();
    const quietDone = Math.max(...channel.attempts.filter((record) => record.tenantId === 'quiet').map((record) => record.at));
    const busyDone = Math.max(...channel.attempts.filter((record) => record.tenantId === 'busy').map((record) => record.at));
    assert.ok(quietDone < 500, `quiet tenant finished at ${quietDone} ms`);
    assert.ok(busyDone > 5_000, `busy tenant finished at ${busyDone} ms`);
  });

  test('ten tenants are sent to in parallel, each at its own rate', async () => {
    const store = await storeWith(1_000, (i) => `tenant-${i % 10}`);
    const { broadcast } = harness(store, { tenantPerSecond: 50, settings: { concurrency: 64 } });
    const summary = await broadcast();
    assert.equal(summary.sent, 1_000);
    // 100 per tenant at 49/s is about 2 s; one tenant after another would be 20 s.
    assert.ok(summary.durationMs < 2_500, `${summary.durationMs} ms`);
  });

  test('two broadcasts at once share the tenant limit', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { headroom: 1, warmupMs: 0 });
    const first = harness(await storeWith(200), { clock, limiter });
    const second = harness(await storeWith(200), { clock, limiter });
    await clock.run(Promise.all([first.broadcast({ id: 'a' }), second.broadcast({ id: 'b' })]));
    const times = [...first.channel.attempts, ...second.channel.attempts].map((record) => record.at).sort((a, b) => a - b);
    let maxInWindow = 0;
    for (let last = 0, first_ = 0; last < times.length; last++) {
      while ((times[first_] ?? 0) <= (times[last] ?? 0) - 1_000) first_++;
      maxInWindow = Math.max(maxInWindow, last - first_ + 1);
    }
    assert.equal(maxInWindow, 50);
  });

  test('a request withdrawn at the wire gate because the run ended takes no slot from the next send to the tenant', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 1, conversationPerSecond: 1_000 }, clock, { headroom: 1, warmupMs: 0 });
    await clock.run(limiter.waitForWireSlot('tenant-a', 'earlier')); // the tenant's next wire slot is at 1,000 ms
    const { broadcast } = harness(await storeWith(1), { clock, limiter, settings: { deadlineSeconds: 0.5 } });
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.notAttempted], [0, 1], 'withdrawn at the gate after the 0.5 s deadline');
    const before = clock.now();
    await clock.run(limiter.waitForWireSlot('tenant-a', 'next'));
    assert.equal(clock.now() - before, 0, 'the withdrawn request did not use the slot');
  });

  test('holds only a bounded number of references in memory, whatever the store size', async () => {
    const inner = await storeWith(5_000);
    let handedOut = 0;
    const counting = withList(inner, async (options) => {
      const page = await inner.list(options);
      handedOut += page.items.length;
      return page;
    });
    let finished = 0;
    let maxHeld = 0;
    const clock = new FakeClock();
    const channel = new ScriptedChannel(clock, () => undefined, 100);
    const engine = new BroadcastEngine({
      store: counting,
      send: async (c, a, o) => {
        maxHeld = Math.max(maxHeld, handedOut - finished);
        await channel.send(c, a, o);
        finished += 1;
      },
      rateLimiter: new RateLimiter({ tenantPerSecond: 200, conversationPerSecond: 7 }, clock),
      clock,
      settings: { concurrency: 16, maxAttempts: 5, deadlineSeconds: 200 },
      logger: recordingLogger(),
      tuning: { pageSize: 100, maxBuffered: 300 },
    });
    const summary = await clock.run(engine.broadcast({ id: 'n', activity: { type: 'message', text: 'x' } }));
    assert.equal(summary.sent, 5_000);
    assertCountsAddUp(summary);
    assert.ok(maxHeld <= 300 + 100, `held ${maxHeld}`);
  });

  test('an attempt of several requests (an edit of a message and its reminders) passes each through the wire gate and reports each answer to the rate limiter', async () => {
    class CountingLimiter extends RateLimiter {
      answers = 0;
      override answered(...args: Parameters<RateLimiter['answered']>): void {
        this.answers += 1;
        super.answered(...args);
      }
    }
    const clock = new FakeClock();
    const limiter = new CountingLimiter({ tenantPerSecond: 1_000, conversationPerSecond: 1_000 }, clock, { warmupMs: 0 });
    let gated = 0;
    const engine = new BroadcastEngine({
      store: await storeWith(10),
      send: async (_conversation, _activity, options) => {
        for (let request = 0; request < 3; request++) {
          await options?.beforeWire?.(new AbortController().signal);
          gated += 1;
        }
      },
      rateLimiter: limiter,
      clock,
      settings: { concurrency: 4, maxAttempts: 5, deadlineSeconds: 200 },
      logger: recordingLogger(),
    });
    const summary = await clock.run(engine.broadcast({ id: 'n', activity: { type: 'message', text: 'x' } }));
    assert.equal(summary.sent, 10);
    assert.equal(gated, 30);
    assert.equal(limiter.answers, 30, 'one answer per request, not per attempt');
  });

  test('logs one line per failed recipient and one summary line', async () => {
    const store = await storeWith(5);
    const { broadcast, logger } = harness(store, { script: (id) => (id === 'c00004' ? channelError(400, 'BadArgument') : undefined) });
    await broadcast();
    assert.equal(logger.lines('warn').length, 1);
    assert.match(logger.lines('warn')[0] ?? '', /c00004.*400 BadArgument/);
    assert.equal(logger.lines('log').filter((line) => /matched 5, sent 4, failed 1/.test(line)).length, 1);
  });

  test('after a stop, paging on through rows the filter drops stays within the counting budget', async () => {
    // 20 recipients of tenant-a are listed first, then 3,000 rows of another tenant the filter drops.
    const inner = await storeWith(3_020, (i) => (i < 20 ? 'tenant-a' : 'tenant-b'));
    const clock = new FakeClock();
    let pages = 0;
    const slow = withList(inner, async (options) => {
      pages += 1;
      await clock.sleep(100);
      return inner.list(options);
    });
    const { broadcast, logger } = harness(slow, { clock, script: () => channelError(401), tuning: { pageSize: 10, countingBudgetMs: 10_000 } });
    const summary = await broadcast({ filter: { tenantIds: ['tenant-a'] } });
    assert.match(summary.stoppedEarly ?? '', /MicrosoftAppPassword/);
    assert.ok(summary.durationMs <= 1_000 + 10_000, `${summary.durationMs} ms, ${pages} pages read`);
    assert.ok(pages < 302, `${pages} pages read`);
    assert.ok(logger.lines('warn').some((line) => line.includes('lower bounds')));
  });

  test('a store that fails mid-run stops the run and says so', async () => {
    const inner = await storeWith(50);
    let pages = 0;
    const failing = withList(inner, async (options) => {
      if (++pages > 2) throw new Error('table unavailable');
      return inner.list(options);
    });
    const { broadcast } = harness(failing, { tuning: { pageSize: 10 } });
    const summary = await broadcast();
    assert.equal(summary.sent, 20);
    assert.match(summary.stoppedEarly ?? '', /conversation store.*table unavailable/);
    assertCountsAddUp(summary);
  });
});

describe('BroadcastEngine and opt-outs', () => {
  const personOf = (c: StoredConversation) => ({ tenantId: c.tenantId, channelId: c.channelId, userId: c.userId, aadObjectId: c.aadObjectId });

  test('skips the personal chats of people who opted out, counts them in optedOut, and reads each tenant once', async () => {
    const store = await storeWith(300, (i) => `tenant-${i % 3}`);
    const optOuts = new MemoryOptOutStore();
    const everyone = (await store.list({ pageSize: 1_000 })).items;
    for (const c of everyone.filter((_, i) => i % 10 === 0)) await optOuts.optOut(personOf(c));
    const { broadcast, channel } = harness(store, { tuning: { pageSize: 40 } });

    const summary = await broadcast({ optOuts: new OptOutFilter(optOuts) });

    assert.deepEqual({ matched: summary.matched, sent: summary.sent, optedOut: summary.optedOut }, { matched: 300, sent: 270, optedOut: 30 });
    for (const [i, c] of everyone.entries()) assert.equal(channel.deliveries(c.conversationId), i % 10 === 0 ? 0 : 1, c.conversationId);
    assert.equal(optOuts.reads, 3, 'one read per tenant for the whole run, not one per recipient');
  });

  test('a group chat or a channel is sent to even when the person stored with it opted out', async () => {
    const store = new MemoryConversationStore();
    const personal = conversation('a:personal', 'tenant-a');
    const base = conversation('19:group', 'tenant-a');
    const group = { ...base, userId: personal.userId, aadObjectId: personal.aadObjectId, conversationType: 'groupChat' };
    await store.upsert(personal);
    await store.upsert(group);
    const optOuts = new MemoryOptOutStore();
    await optOuts.optOut(personOf(personal));
    const { broadcast, channel } = harness(store);

    const summary = await broadcast({ optOuts: new OptOutFilter(optOuts) });

    assert.deepEqual([summary.sent, summary.optedOut], [1, 1]);
    assert.equal(channel.deliveries('19:group'), 1);
  });

  test('without an opt-out check (opt-out turned off) nobody is skipped', async () => {
    const store = await storeWith(20);
    const { broadcast } = harness(store);
    const summary = await broadcast();
    assert.deepEqual([summary.sent, summary.optedOut], [20, 0]);
  });

  test('when the opt-outs cannot be read, nothing is sent and the run says why', async () => {
    const store = await storeWith(20);
    const { broadcast, channel } = harness(store);
    const summary = await broadcast({ optOuts: { isOptedOut: async () => Promise.reject(new Error('table down')) } });
    assert.equal(channel.attempts.length, 0);
    assert.equal(summary.notAttempted, 20);
    assert.match(summary.stoppedEarly ?? '', /opt-out list could not be read.*table down/);
  });
});
