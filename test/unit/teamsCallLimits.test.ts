import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TeamsCallGate, type TeamsCallTarget } from '../../shared/audience/teamsCallGate';
import { FakeClock } from '../../shared/clock';
import { RateLimiter } from '../../shared/delivery/rateLimiter';
import { ThreadWindows, rosterWindows, sendAndCreateWindows, type Window } from '../../shared/delivery/threadWindows';

/** Most requests among `times` (sorted) in any half-open window of `ms`. */
function maxInAnyWindow(times: readonly number[], ms: number): number {
  let best = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[first] ?? 0) <= (times[last] ?? 0) - ms) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

function assertWithin(times: readonly number[], windows: readonly Window[]): void {
  for (const { limit, ms } of windows) assert.ok(maxInAnyWindow(times, ms) <= limit, `${maxInAnyWindow(times, ms)} requests in ${ms} ms, limit ${limit}`);
}

/** Starts `count` calls of one thread at once; returns when each went out. */
async function passAll(clock: FakeClock, windows: ThreadWindows, count: number, threadKey = 'team-1'): Promise<number[]> {
  const times: number[] = [];
  await clock.run(Promise.all(Array.from({ length: count }, () => windows.pass(threadKey, async () => times.push(clock.now())))));
  return times;
}

const exact = { headroom: 1, warmupMs: 0 };

describe('Teams per-thread limits', () => {
  test("a team's roster calls started all at once keep 14 per second, 16 per 2 s and 120 per 30 s", async () => {
    const clock = new FakeClock();
    const times = await passAll(clock, new ThreadWindows(rosterWindows, clock), 150);
    assert.equal(times.length, 150);
    assertWithin(times, rosterWindows);
    assert.equal(maxInAnyWindow(times, 1_000), 14, 'the first second uses its 14');
    assert.ok((times[120] ?? 0) >= 30_000, `the 121st call waits for the 30 s window (went at ${times[120]} ms)`);
  });

  test("a team's roster calls keep 3,600 per hour: the 3,601st waits for the hour to pass", async () => {
    const clock = new FakeClock();
    const times = await passAll(clock, new ThreadWindows(rosterWindows, clock), 3_601);
    assertWithin(times, rosterWindows);
    assert.ok((times[3_600] ?? 0) >= 3_600_000, `the 3,601st went at ${times[3_600]} ms`);
  });

  test("creating chats on one thread keeps 7 per second, 8 per 2 s, 60 per 30 s and 1,800 per hour", async () => {
    const clock = new FakeClock();
    const times = await passAll(clock, new ThreadWindows(sendAndCreateWindows, clock), 1_801);
    assertWithin(times, sendAndCreateWindows);
    assert.equal(maxInAnyWindow(times, 1_000), 7);
    assert.ok((times[1_800] ?? 0) >= 3_600_000);
  });

  test('each thread has its own windows: two teams together make twice the calls of one', async () => {
    const clock = new FakeClock();
    const windows = new ThreadWindows(rosterWindows, clock);
    const times: Record<string, number[]> = { a: [], b: [] };
    const calls = ['a', 'b'].flatMap((team) => Array.from({ length: 16 }, () => windows.pass(team, async () => times[team]?.push(clock.now()))));
    await clock.run(Promise.all(calls));
    assert.equal(maxInAnyWindow(times.a ?? [], 1_000), 14);
    assert.equal(maxInAnyWindow(times.b ?? [], 1_000), 14);
    assert.equal(maxInAnyWindow([...(times.a ?? []), ...(times.b ?? [])].sort((x, y) => x - y), 1_000), 28);
  });

  test("a call that does not go out (its gate rejects) does not count in the thread's windows", async () => {
    const clock = new FakeClock();
    const windows = new ThreadWindows(sendAndCreateWindows, clock);
    for (let i = 0; i < 7; i++) await assert.rejects(windows.pass('t', async () => Promise.reject(new Error('timed out'))));
    const times = await passAll(clock, windows, 7, 't');
    assert.deepEqual(times, [0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('roster calls and new chats in the tenant budget', () => {
  test("roster calls of 10 teams, new chats and sends of one tenant together stay within the tenant's 50 requests per second", async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const gate = new TeamsCallGate({ rateLimiter: limiter, clock, maxAttempts: 1 });
    const times: number[] = [];
    const through = async (target: TeamsCallTarget): Promise<void> => {
      await gate.wireSlot(target);
      times.push(clock.now());
    };
    const rosters = Array.from({ length: 100 }, (_, i) => through({ kind: 'roster', tenantId: 't', threadKey: `team-${i % 10}` }));
    const creates = Array.from({ length: 100 }, (_, i) => through({ kind: 'create', tenantId: 't', threadKey: `person-${i}` }));
    const sends = Array.from({ length: 100 }, async (_, i) => {
      await limiter.waitForWireSlot('t', `conversation-${i}`);
      times.push(clock.now());
    });
    await clock.run(Promise.all([...rosters, ...creates, ...sends]));
    times.sort((a, b) => a - b);
    assert.equal(times.length, 300);
    assert.ok(maxInAnyWindow(times, 1_000) <= 50, `${maxInAnyWindow(times, 1_000)} in one second`);
    assert.ok((times[299] ?? 0) >= 5_000, 'the 300 requests take the 6 seconds the budget allows, not less');
  });

  test('another tenant is not held back by a busy one', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const gate = new TeamsCallGate({ rateLimiter: limiter, clock, maxAttempts: 1 });
    const busy = Array.from({ length: 200 }, (_, i) => gate.wireSlot({ kind: 'create', tenantId: 'busy', threadKey: `p-${i}` }));
    let quietAt = Number.NaN;
    const quiet = gate.wireSlot({ kind: 'roster', tenantId: 'quiet', threadKey: 'team' }).then(() => (quietAt = clock.now()));
    await clock.run(Promise.all([...busy, quiet]));
    assert.equal(quietAt, 0);
  });

  test("a throttled call is tried again after the channel's Retry-After", async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const gate = new TeamsCallGate({ rateLimiter: limiter, clock, maxAttempts: 3 });
    const attemptsAt: number[] = [];
    const throttled = Object.assign(new Error('Too many requests'), { statusCode: 429, code: 'Throttled', response: { headers: { get: () => '2' } } });
    const result = await clock.run(
      gate.call({ kind: 'roster', tenantId: 't', threadKey: 'team' }, async ({ beforeWire }) => {
        await beforeWire?.(new AbortController().signal);
        attemptsAt.push(clock.now());
        if (attemptsAt.length === 1) throw throttled;
        return 'page';
      }),
    );
    assert.equal(result, 'page');
    assert.deepEqual(attemptsAt, [0, 2_000]);
  });

  test('a call refused for good is not tried again', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const gate = new TeamsCallGate({ rateLimiter: limiter, clock, maxAttempts: 5 });
    let attempts = 0;
    const forbidden = Object.assign(new Error('The bot is not part of the conversation roster.'), { statusCode: 403, code: 'BotNotInConversationRoster' });
    await assert.rejects(
      clock.run(gate.call({ kind: 'create', tenantId: 't', threadKey: 'p' }, async () => {
        attempts += 1;
        throw forbidden;
      })),
      forbidden,
    );
    assert.equal(attempts, 1);
  });
});
