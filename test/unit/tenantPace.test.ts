import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../shared/clock';
import { RateLimiter } from '../../shared/delivery/rateLimiter';

/** A channel that counts requests at arrival in a sliding one-second window per tenant, as Teams does. */
interface Channel {
  /** True when the request arriving at `at` is refused with 429. */
  judge(at: number, index: number): boolean;
}

function windowLimit(limitAt: (at: number) => number): Channel {
  const admitted: number[] = [];
  return {
    judge(at) {
      while ((admitted[0] ?? at) <= at - 1_000) admitted.shift();
      if (admitted.length >= limitAt(at)) return true;
      admitted.push(at);
      return false;
    },
  };
}

interface Send {
  readonly at: number;
  readonly throttled: boolean;
}

/**
 * Sends to one tenant for `seconds` as fast as the limiter allows, as the engine does (reserve, wire
 * gate, send); the channel judges each request when it arrives and answers after `latencyMs`.
 */
async function simulate(clock: FakeClock, limiter: RateLimiter, channel: Channel, seconds: number, latencyMs = 100): Promise<Send[]> {
  const sends: Send[] = [];
  const end = clock.now() + seconds * 1_000;
  while (clock.now() < end) {
    const conversation = `c${sends.length}`;
    if (!limiter.tryAcquire('t1', conversation)) {
      await clock.advance(1);
      continue;
    }
    const slot = await clock.run(limiter.waitForWireSlot('t1', conversation));
    assert.ok(slot !== undefined);
    const throttled = channel.judge(clock.now(), sends.length);
    sends.push({ at: clock.now(), throttled });
    void clock.sleep(latencyMs).then(() => limiter.answered(slot, throttled));
  }
  await clock.advance(latencyMs);
  return sends;
}

function sentBetween(sends: readonly Send[], fromMs: number, toMs: number): number {
  return sends.filter((send) => send.at >= fromMs && send.at < toMs).length;
}

function maxInAnyWindow(sends: readonly Send[]): number {
  let best = 0;
  for (let last = 0, first = 0; last < sends.length; last++) {
    while ((sends[first]?.at ?? 0) <= (sends[last]?.at ?? 0) - 1_000) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

function limiterAt50(clock: FakeClock): RateLimiter {
  return new RateLimiter({ tenantPerSecond: 50, conversationPerSecond: 7 }, clock, { headroom: 0.98, warmupMs: 0 });
}

describe('tenant pace', () => {
  test('one 429 costs that recipient a retry and leaves the tenant’s pace as it was', async () => {
    const clock = new FakeClock();
    const limiter = limiterAt50(clock);
    const onlyThe30th: Channel = { judge: (_at, index) => index === 30 };

    const sends = await simulate(clock, limiter, onlyThe30th, 4);

    assert.equal(sends.filter((send) => send.throttled).length, 1);
    assert.equal(limiter.knownTenantLimit('t1'), undefined);
    assert.equal(Math.round(limiter.tenantRate('t1')), 49);
    assert.ok(sentBetween(sends, 1_000, 2_000) >= 48, `second after the 429: ${sentBetween(sends, 1_000, 2_000)} sends`);
  });

  test('a burst of 429s brings the pace down to what the channel accepted, and it recovers within seconds once they stop', async () => {
    const clock = new FakeClock();
    const limiter = limiterAt50(clock);
    // Something else uses 25 of the tenant's 50 per second for 5 s.
    const channel = windowLimit((at) => (at < 5_000 ? 25 : 50));

    const sends = await simulate(clock, limiter, channel, 20);

    const burst = sends.filter((send) => send.at < 1_000 && send.throttled).length;
    assert.ok(burst <= 15, `429s in the first second: ${burst}`);
    const during = sentBetween(sends, 2_000, 5_000) / 3;
    assert.ok(during >= 22 && during <= 25, `${during.toFixed(1)}/s while the channel allowed 25`);
    const recoveredAt = sends.findIndex((send, i) => send.at > 5_000 && sentBetween(sends, send.at, send.at + 1_000) >= 48 && i > 0);
    assert.ok(recoveredAt > 0, 'back at the ceiling');
    const recoveredAfter = (sends[recoveredAt]?.at ?? 0) - 5_000;
    assert.ok(recoveredAfter <= 10_000, `back at the ceiling ${recoveredAfter} ms after the limit lifted`);
    assert.ok(maxInAnyWindow(sends) <= 50);
  });

  test('finds a real limit below the setting and settles within 10 % under it, with few 429s', async () => {
    const clock = new FakeClock();
    const limiter = limiterAt50(clock);
    const channel = windowLimit(() => 30);

    const sends = await simulate(clock, limiter, channel, 60);

    const throttled = sends.filter((send) => send.throttled).length;
    const settled = sentBetween(sends, 10_000, 60_000) / 50;
    const admittedAfterStart = sends.filter((send) => send.at >= 10_000 && !send.throttled).length / 50;
    assert.ok(settled >= 27 && settled <= 30.5, `${settled.toFixed(1)} sends/s against a limit of 30`);
    assert.ok(admittedAfterStart >= 27, `${admittedAfterStart.toFixed(1)} accepted/s`);
    assert.ok(throttled <= 0.05 * sends.length, `${throttled} × 429 of ${sends.length} sends`);
    assert.ok(Math.abs((limiter.knownTenantLimit('t1') ?? 0) - 30) <= 1, `known limit ${limiter.knownTenantLimit('t1')}`);
  });

  test('scattered 429s at 10 % of requests do not lower the pace', async () => {
    const clock = new FakeClock();
    const limiter = limiterAt50(clock);
    // Every tenth request, give or take: no run of them.
    const scattered: Channel = { judge: (_at, index) => (index * 7) % 10 === 3 };

    const sends = await simulate(clock, limiter, scattered, 20);

    assert.ok(sentBetween(sends, 1_000, 20_000) / 19 >= 48, `${(sentBetween(sends, 1_000, 20_000) / 19).toFixed(1)}/s`);
    assert.equal(limiter.knownTenantLimit('t1'), undefined);
  });

  test('the setting stays a ceiling: no second holds more than it, whatever the channel answers', async () => {
    const clock = new FakeClock();
    const limiter = limiterAt50(clock);
    const generous = windowLimit(() => 1_000);

    const sends = await simulate(clock, limiter, generous, 10);

    assert.ok(maxInAnyWindow(sends) <= 50, `${maxInAnyWindow(sends)} in one second`);
  });
});
