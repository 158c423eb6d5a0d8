import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeExecutions } from '../../scripts/bench/executionTimes';

describe('the cost bench bills execution time as Flex Consumption does', () => {
  it('bills overlapping executions of a function once, each busy period at least a second, each function on its own instance', () => {
    const summary = summarizeExecutions([
      { name: 'deliver', startMs: 0, endMs: 300 },
      { name: 'deliver', startMs: 200, endMs: 1_450 },
      { name: 'deliver', startMs: 5_000, endMs: 5_100 },
      { name: 'plan', startMs: 0, endMs: 200 },
    ]);
    assert.equal(summary.executions, 4);
    assert.equal(summary.summedSeconds, (300 + 1_250 + 100 + 200) / 1_000);
    assert.equal(summary.busySeconds, (1_450 + 100) / 1_000);
    // deliver: 1,450 ms rounded up to 1,500, then 100 ms billed as 1,000; plan: 200 ms billed as 1,000.
    assert.equal(summary.billedSeconds, (1_500 + 1_000 + 1_000) / 1_000);
  });
});
