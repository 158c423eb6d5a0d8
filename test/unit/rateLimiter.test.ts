import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock, type Clock } from '../../shared/clock';
import { RateLimiter, type RateLimiterOptions } from '../../shared/delivery/rateLimiter';

const exact: RateLimiterOptions = { headroom: 1, warmupMs: 0 };

/** Takes every slot the limiter hands out over `durationMs`, checking every millisecond; returns the send times. */
async function drive(
  clock: FakeClock,
  limiter: RateLimiter,
  durationMs: number,
  nextKey: () => { tenant: string; conversation: string },
): Promise<number[]> {
  const sendTimes: number[] = [];
  const end = clock.now() + durationMs;
  while (clock.now() < end) {
    for (;;) {
      const { tenant, conversation } = nextKey();
      if (!limiter.tryAcquire(tenant, conversation)) break;
      await clock.run(limiter.waitForWireSlot(tenant, conversation));
      sendTimes.push(clock.now());
    }
    await clock.advance(1);
  }
  return sendTimes;
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

let counter = 0;
const newConversation = (tenant: string) => () => ({ tenant, conversation: `c${counter++}` });

describe('RateLimiter', () => {
  test('spaces one tenant’s sends 1000/rate apart', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const times = await drive(clock, limiter, 2_000, newConversation('t1'));
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    assert.ok(gaps.every((gap) => gap >= 20), `gaps ${gaps.join(',')}`);
    assert.equal(times.length, 100);
  });

  test('a tenant’s second window starts the warm-up margin after its first, whose sends may arrive late', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { headroom: 1, warmupMs: 100 });
    const times = await drive(clock, limiter, 2_500, newConversation('t1'));
    assert.ok((times[50] ?? 0) - (times[0] ?? 0) >= 1_100, `51st send ${(times[50] ?? 0) - (times[0] ?? 0)} ms after the first`);
    assert.ok((times[100] ?? 0) - (times[50] ?? 0) < 1_100, 'later windows are not held back');
  });

  test('never lets more than the limit into any one-second window', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock);
    const times = await drive(clock, limiter, 5_000, newConversation('t1'));
    assert.ok(maxInAnyWindow(times) <= 50, `max ${maxInAnyWindow(times)}`);
    // 49/s (2% headroom) less the 200 ms warm-up pause at the start.
    assert.ok(times.length >= 5 * 49 - 10, `only ${times.length} in 5 s`);
  });

  test('keeps a slack below the limit that follows the spread of answer times, within 20 to 60 ms per second, untouched by one slow answer', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { warmupMs: 0 });
    const answerAll = async (answerMs: (i: number) => number): Promise<void> => {
      for (let i = 0; i < 64; i++) {
        const slot = await clock.run(limiter.waitForWireSlot('t1', `c${counter++}`));
        assert.ok(slot !== undefined);
        const at = clock.now();
        await clock.advance(answerMs(i));
        limiter.answered(slot, false);
        await clock.advance(Math.max(0, at + 30 - clock.now()));
      }
    };
    const untilAnswers = limiter.tenantRate('t1');
    await answerAll((i) => 100 + (i % 16) * 3); // 0-45 ms of jitter
    const withJitter = limiter.tenantRate('t1');
    await answerAll((i) => (i === 40 ? 400 : 100)); // one answer read late
    const steady = limiter.tenantRate('t1');
    await answerAll((i) => 100 + (i % 2) * 500);
    const wild = limiter.tenantRate('t1');

    assert.equal(untilAnswers.toFixed(1), (50_000 / 1_030).toFixed(1));
    assert.ok(withJitter > 50_000 / 1_055 && withJitter < 50_000 / 1_040, `${withJitter} with 45 ms of jitter`);
    assert.equal(steady.toFixed(1), (50_000 / 1_020).toFixed(1));
    assert.equal(wild.toFixed(1), (50_000 / 1_060).toFixed(1));
  });

  test('limits each conversation separately, at its own rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const times = await drive(clock, limiter, 3_000, () => ({ tenant: 't1', conversation: 'same' }));
    assert.equal(maxInAnyWindow(times), 7);
  });

  test('tenants are independent: ten tenants get ten times the rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    let next = 0;
    const times = await drive(clock, limiter, 2_000, () => ({ tenant: `t${next % 10}`, conversation: `c${next++}` }));
    assert.equal(times.length, 10 * 100);
  });

  test('a busy tenant does not delay another tenant', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    assert.ok(limiter.tryAcquire('busy', 'c1'));
    assert.equal(limiter.tryAcquire('busy', 'c2'), false);
    assert.ok(limiter.tryAcquire('quiet', 'c3'));
  });

  test('a request delayed on its way out is followed 0.9 interval later, not in a bunch', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    assert.ok(limiter.tryAcquire('t1', 'a'));
    await clock.advance(20);
    assert.ok(limiter.tryAcquire('t1', 'b'));
    // 'a' reaches the wire late, at 60 ms; 'b' comes right after it.
    await clock.advance(40);
    await clock.run(limiter.waitForWireSlot('t1', 'a'));
    await clock.run(limiter.waitForWireSlot('t1', 'b'));
    assert.equal(clock.now(), 60 + 18);
  });

  test('requests held up together catch up only slightly faster than the rate, and no window exceeds the limit', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, exact);
    const times: number[] = [];
    const all = Array.from({ length: 120 }, (_, i) => limiter.waitForWireSlot('t1', `c${i}`).then(() => void times.push(clock.now())));
    await clock.run(Promise.all(all));
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    assert.ok(gaps.every((gap) => gap >= 18), `gaps ${gaps.join(',')}`);
    assert.equal(maxInAnyWindow(times), 50);
  });

  test('timers firing late do not slow a queue of requests below the rate, and no window exceeds the limit', async () => {
    const clock = new FakeClock();
    // Every timer fires 5 ms late, as on a busy machine.
    const late: Clock = { now: () => clock.now(), sleep: (ms, signal) => clock.sleep(ms + 5, signal) };
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, late, exact);
    const times: number[] = [];
    const all = Array.from({ length: 150 }, (_, i) => limiter.waitForWireSlot('t1', `c${i}`).then(() => void times.push(clock.now())));
    await clock.run(Promise.all(all));
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    assert.equal(maxInAnyWindow(times), 50);
    assert.ok(gaps.every((gap) => gap >= 10), `gaps ${gaps.join(',')}`);
    // 150 sends at 50/s: three windows of 1 s and the 49 gaps of the first; 23 ms a send (18 + 5 late) would take 3.4 s.
    assert.ok((times[149] ?? 0) - (times[0] ?? 0) < 3_050, `took ${(times[149] ?? 0) - (times[0] ?? 0)} ms`);
  });

  test('the first requests to an idle tenant are followed by warm-up pauses', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { headroom: 1, warmupMs: 100 });
    for (let i = 0; i < 10; i++) await clock.run(limiter.waitForWireSlot('t1', `c${i}`));
    assert.equal(Math.round(clock.now()), 9 * (20 + 10));
  });
});
