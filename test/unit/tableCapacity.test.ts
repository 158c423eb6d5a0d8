import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entitySizeBytes } from '../../scripts/bench/tableCapacity';

describe('the cost bench sizes table rows as the Table service bills capacity', () => {
  it('counts keys and string values at two bytes a character, with the per-entity and per-property overhead', () => {
    // 4 + 2 × len("a" + "bc") + (8 + 2 × len("name") + 4 + 2 × len("xy"))
    assert.equal(entitySizeBytes({ partitionKey: 'a', rowKey: 'bc', name: 'xy' }), 4 + 6 + (8 + 8 + 4 + 4));
  });

  it('sizes numbers, booleans and typed values by their type and leaves the system properties out', () => {
    const typed = { partitionKey: '', rowKey: '', etag: 'W/"x"', timestamp: '2026-01-01', 'odata.etag': 'x', n: 1, b: true, big: { value: '5', type: 'Int64' }, small: { value: '5', type: 'Int32' } };
    assert.equal(entitySizeBytes(typed), 4 + (8 + 2 + 8) + (8 + 2 + 1) + (8 + 6 + 8) + (8 + 10 + 4));
  });
});
