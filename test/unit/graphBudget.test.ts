import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../shared/clock';
import { GraphBudget } from '../../shared/graph/graphBudget';

/** When each of `count` takes of `size` requests went, on a clock that only moves when everything waits. */
async function takeTimes(clock: FakeClock, budget: GraphBudget, tenant: string, count: number, size: number): Promise<number[]> {
  const times: number[] = [];
  await clock.run(
    Promise.all(Array.from({ length: count }, async () => {
      await budget.take(tenant, size);
      times.push(clock.now());
    })),
  );
  return times.sort((a, b) => a - b);
}

describe('the Graph budget of a tenant', () => {
  it('lets a second\'s worth of requests go at once, then keeps to the rate', async () => {
    const clock = new FakeClock();
    const budget = new GraphBudget(clock, 100);

    const times = await takeTimes(clock, budget, 'tenant', 10, 20);

    // 5 batches of 20 fill the burst of 100; then one batch of 20 every 200 ms.
    assert.deepEqual(times, [0, 0, 0, 0, 0, 200, 400, 600, 800, 1_000]);
  });

  it('holds back every request to a tenant until its Retry-After has passed, those already waiting included, and no other tenant', async () => {
    const clock = new FakeClock();
    const budget = new GraphBudget(clock, 1);
    const went: string[] = [];
    const take = async (tenant: string, label: string): Promise<void> => {
      await budget.take(tenant, 1);
      went.push(`${label}@${clock.now()}`);
    };

    await clock.run(
      Promise.all([
        take('tenant', 'before the 429'),
        take('tenant', 'waiting for the rate'),
        clock.sleep(10).then(() => budget.holdOff('tenant', 3_000)),
        clock.sleep(20).then(() => Promise.all([take('tenant', 'after the 429'), take('another tenant', 'elsewhere')])),
      ]),
    );

    // At one request a second, the second would have gone at 1,000 ms; the 429 at 10 ms asked for 3 s.
    assert.deepEqual(new Set(went), new Set(['before the 429@0', 'elsewhere@20', 'waiting for the rate@3010', 'after the 429@3010']));
  });

  it('keeps the longest of overlapping Retry-After pauses', async () => {
    const clock = new FakeClock();
    const budget = new GraphBudget(clock, 100);
    budget.holdOff('tenant', 2_000);
    budget.holdOff('tenant', 500);

    assert.deepEqual(await takeTimes(clock, budget, 'tenant', 1, 1), [2_000]);
  });
});
