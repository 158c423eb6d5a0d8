import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchSizeFor, ledgerGroupWindowFor } from '../../shared/queued/workContext';

describe('queued work tuning', () => {
  test('at Teams\' 50/s each delivery is written to the ledger at once; a faster pace groups them for 20 ms', () => {
    assert.equal(ledgerGroupWindowFor(50), 0);
    assert.equal(ledgerGroupWindowFor(99), 0);
    assert.equal(ledgerGroupWindowFor(100), 20);
    assert.equal(ledgerGroupWindowFor(100_000), 20);
  });

  test('a batch is half a slice of sends at the tenant\'s pace, between 10 and 500', () => {
    assert.equal(batchSizeFor(50, 60), 500);
    assert.equal(batchSizeFor(50, 10), 250);
    assert.equal(batchSizeFor(1, 1), 10);
  });
});
