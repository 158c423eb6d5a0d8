import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BroadcastEngine, personPlaceholder } from '../../shared/delivery/broadcast';
import type {
  BroadcastRequest,
  BroadcastSummary,
  PersonalConversationOutcome,
  PersonalConversations,
  PersonRecipient,
} from '../../shared/delivery/broadcastTypes';
import { FakeClock } from '../../shared/clock';
import type { SendActivity } from '../../shared/delivery/proactiveSender';
import { RateLimiter } from '../../shared/delivery/rateLimiter';
import { MemoryDeliveryLedgers } from '../../shared/ledgers/memoryDeliveryLedgers';
import { deliveryRowKey } from '../../shared/ledgers/deliveryLedgers';
import { toStoredConversation, type StoredConversation } from '../../shared/storage/conversationStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { channelError } from '../support/channelErrors';
import { recordingLogger } from '../support/recordingLogger';

const tenantId = 'tenant-people';

function person(i: number): PersonRecipient {
  return { tenantId, serviceUrl: 'https://smba.example/teams/', channelId: 'msteams', memberId: `29:p-${i}`, aadObjectId: `aad-${i}` };
}

function chatOf(target: PersonRecipient): StoredConversation {
  const check = toStoredConversation({
    channelId: 'msteams',
    serviceUrl: target.serviceUrl,
    conversation: { id: `a:chat-${target.aadObjectId}`, tenantId: target.tenantId, conversationType: 'personal', isGroup: false, name: '' },
    bot: { id: '28:bot', name: '' },
    user: { id: target.memberId, name: '', aadObjectId: target.aadObjectId },
  });
  if (!check.ok) throw new Error(check.reason);
  return check.conversation;
}

/** Opening chats as the test scripts it: `answer(person, attempt)` gives the outcome or throws; every request goes through the wire gate. */
class ScriptedChats implements PersonalConversations {
  readonly requests: { readonly aadObjectId: string; readonly at: number }[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly answer: (target: PersonRecipient, attempt: number) => PersonalConversationOutcome = (target) => ({ ok: true, conversation: chatOf(target), opened: true }),
  ) {}

  async findOrCreate(target: PersonRecipient, { beforeWire }: { beforeWire?: (signal: AbortSignal) => Promise<void> }): Promise<PersonalConversationOutcome> {
    await beforeWire?.(new AbortController().signal);
    this.requests.push({ aadObjectId: target.aadObjectId, at: this.clock.now() });
    await this.clock.sleep(100);
    return this.answer(target, this.requests.filter((request) => request.aadObjectId === target.aadObjectId).length);
  }
}

function setup(chats?: (clock: FakeClock) => ScriptedChats, sendScript: (conversationId: string, attempt: number) => Error | undefined = () => undefined) {
  const clock = new FakeClock();
  const sends: { readonly conversationId: string; readonly at: number }[] = [];
  const attempts = new Map<string, number>();
  const send: SendActivity = async (conversation, _activity, options) => {
    await options?.beforeWire?.(new AbortController().signal);
    const attempt = (attempts.get(conversation.conversationId) ?? 0) + 1;
    attempts.set(conversation.conversationId, attempt);
    const at = clock.now();
    await clock.sleep(100);
    const error = sendScript(conversation.conversationId, attempt);
    if (error !== undefined) throw error;
    sends.push({ conversationId: conversation.conversationId, at });
  };
  const scripted = chats?.(clock);
  const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { headroom: 1, warmupMs: 0 });
  const engine = new BroadcastEngine({
    store: new MemoryConversationStore(),
    send,
    rateLimiter: limiter,
    clock,
    settings: { concurrency: 16, maxAttempts: 5, deadlineSeconds: 200 },
    logger: recordingLogger(),
    tuning: { backoff: { baseDelayMs: 1_000, maxDelayMs: 30_000, random: () => 0.5 } },
    ...(scripted === undefined ? {} : { personalConversations: scripted }),
  });
  const broadcast = (request: Partial<BroadcastRequest>): Promise<BroadcastSummary> =>
    clock.run(engine.broadcast({ id: 'n1', activity: { type: 'message', text: 'hello' }, filter: { conversationIds: [] }, ...request }));
  return { clock, sends, chats: scripted, broadcast };
}

function maxInAnyWindow(times: readonly number[], windowMs = 1_000): number {
  let best = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[first] ?? 0) <= (times[last] ?? 0) - windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

describe('BroadcastEngine with people', () => {
  test("each person's chat is opened, then sent to: two requests a person, together within the tenant's 50 per second", async () => {
    const { broadcast, sends, chats } = setup((clock) => new ScriptedChats(clock));
    const people = Array.from({ length: 200 }, (_, i) => person(i));

    const summary = await broadcast({ people });

    assert.deepEqual([summary.matched, summary.sent, summary.failed, summary.chatsOpened], [200, 200, 0, 200]);
    assert.deepEqual(new Set(sends.map((record) => record.conversationId)), new Set(people.map((target) => `a:chat-${target.aadObjectId}`)));
    const requests = [...(chats?.requests.map((request) => request.at) ?? []), ...sends.map((record) => record.at)].sort((a, b) => a - b);
    assert.equal(requests.length, 400);
    assert.ok(maxInAnyWindow(requests) <= 50, `${maxInAnyWindow(requests)} requests in one second`);
    assert.ok(summary.durationMs >= 7_000, `400 requests at 50/s take about 8 s (took ${summary.durationMs} ms)`);
  });

  test('a throttled create is tried again after its Retry-After; a send throttled after the chat was opened does not open it again', async () => {
    const { broadcast, chats, sends } = setup(
      (clock) =>
        new ScriptedChats(clock, (target, attempt) => {
          if (target.aadObjectId === 'aad-0' && attempt === 1) throw channelError(429, 'Throttled', '3');
          return { ok: true, conversation: chatOf(target), opened: true };
        }),
      (conversationId, attempt) => (conversationId === 'a:chat-aad-1' && attempt === 1 ? channelError(429, 'Throttled', '2') : undefined),
    );

    const summary = await broadcast({ people: [person(0), person(1)] });

    assert.deepEqual([summary.sent, summary.failed, summary.retried], [2, 0, 2]);
    assert.deepEqual(chats?.requests.map((request) => request.aadObjectId).sort(), ['aad-0', 'aad-0', 'aad-1']);
    const retriedCreate = chats?.requests.filter((request) => request.aadObjectId === 'aad-0') ?? [];
    assert.ok((retriedCreate[1]?.at ?? 0) - (retriedCreate[0]?.at ?? 0) >= 3_000, 'the create waited its Retry-After');
    assert.equal(sends.filter((record) => record.conversationId === 'a:chat-aad-1').length, 1);
  });

  test('people refused by Teams are failed with their reason and counted by it, the others are sent to', async () => {
    const reasons = { 'aad-1': 'blocked', 'aad-2': 'notInstalled', 'aad-3': 'notFound' } as const;
    const { broadcast } = setup(
      (clock) =>
        new ScriptedChats(clock, (target) => {
          const reason = reasons[target.aadObjectId as keyof typeof reasons];
          return reason === undefined ? { ok: true, conversation: chatOf(target), opened: true } : { ok: false, reason, status: 403, code: `Code-${reason}`, message: reason };
        }),
    );

    const summary = await broadcast({ people: [0, 1, 2, 3].map(person) });

    assert.deepEqual([summary.sent, summary.failed], [1, 3]);
    assert.deepEqual(summary.unreachable, { blocked: 1, notInstalled: 1, notFound: 1 });
    assert.deepEqual(
      summary.failures.map((failure) => [failure.aadObjectId, failure.reason, failure.code]).sort(),
      [['aad-1', 'blocked', 'Code-blocked'], ['aad-2', 'notInstalled', 'Code-notInstalled'], ['aad-3', 'notFound', 'Code-notFound']],
    );
  });

  test('the ledger records a person once by their object id: a retried notification with the same id neither opens their chat nor sends again', async () => {
    const { broadcast, chats, sends } = setup((clock) => new ScriptedChats(clock));
    const ledger = new MemoryDeliveryLedgers().open('n1');
    const people = [person(0), person(1)];

    const first = await broadcast({ people, ledger });
    const second = await broadcast({ people, ledger });

    assert.deepEqual([first.sent, second.sent, second.alreadySent], [2, 0, 2]);
    assert.equal(chats?.requests.length, 2);
    assert.equal(sends.length, 2);
  });

  test("the ledger records each person's delivery with the chat it went to, for later edits, recalls and reminders", async () => {
    const { broadcast } = setup((clock) => new ScriptedChats(clock));
    const ledgers = new MemoryDeliveryLedgers();
    const people = [person(0), person(1)];

    await broadcast({ people, ledger: ledgers.open('n1') });

    const entries = await ledgers.entries('n1');
    const chats = people.map((target) => entries.get(deliveryRowKey(personPlaceholder(target)))?.chat);
    assert.deepEqual(chats, people.map((target) => ({ conversationId: `a:chat-${target.aadObjectId}`, serviceUrl: target.serviceUrl })));
  });

  test('a stored chat reused by the hook costs no create and is not counted as opened', async () => {
    const { broadcast, sends } = setup((clock) => new ScriptedChats(clock, (target) => ({ ok: true, conversation: chatOf(target), opened: false })));
    const summary = await broadcast({ people: [person(7)] });
    assert.deepEqual([summary.sent, summary.chatsOpened], [1, 0]);
    assert.deepEqual(sends.map((record) => record.conversationId), ['a:chat-aad-7']);
  });

  test('an engine without a way to open chats fails each person by name, and sends to nobody', async () => {
    const { broadcast, sends } = setup();
    const summary = await broadcast({ people: [person(0)] });
    assert.deepEqual([summary.failed, summary.failures[0]?.code], [1, 'NoPersonalConversations']);
    assert.equal(sends.length, 0);
  });
});
