import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { prefixEnd } from '../../shared/storage/keyRanges';
import {
  escapeKey,
  isLegacyPartitionKey,
  keyOf,
  legacyKeyOf,
  maxKeyLength,
  partitionPrefix,
  toKey,
  unescapeKey,
} from '../../shared/storage/conversationKeys';

/** A few hundred generated cases per property: seconds at most, a new sample on every run. */
const runs = { numRuns: 300 };

/** UTF-16 code units of any value, so strings may hold lone surrogates as JSON allows ("\ud800"). */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
/**
 * Ids as a hostile or unusual channel might send them: any code point, any
 * code unit, the characters Azure Table forbids, the escape character itself
 * and text that looks like an escape, long enough that some are hashed.
 */
const tricky = fc.constantFrom('!', '!2F', '!u', '~', '~sha256~', '/', '\\', '#', '?', '\u0000', '\u007f', ':', '@', 'é', '😀', '\ud800', '\udfff');
const anyId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: anyUnit, maxLength: 80 }),
  fc.string({ unit: fc.oneof(tricky, fc.constantFrom('a', 'B', '0', '-')), maxLength: 40 }),
  fc.string({ unit: fc.oneof(tricky, anyUnit, fc.constant('a')), minLength: 80, maxLength: 700 }),
);

const forbiddenInKeys = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe('conversation keys, property-based', () => {
  test('escaping then unescaping gives back any id, lone surrogates included', () => {
    fc.assert(
      fc.property(anyId, (id) => {
        assert.equal(unescapeKey(escapeKey(id)), id);
      }),
      runs,
    );
  });

  test('two different ids never share a key, escaped or hashed', () => {
    fc.assert(
      fc.property(anyId, anyId, (first, second) => {
        fc.pre(first !== second);
        assert.notEqual(toKey(first), toKey(second));
      }),
      runs,
    );
  });

  test('ids that differ in a single unit never share a key', () => {
    const nearTwins = fc
      .tuple(anyId, fc.oneof(tricky, anyUnit), fc.oneof(tricky, anyUnit), anyId)
      .filter(([, first, second]) => first !== second)
      .map(([before, first, second, after]) => [`${before}${first}${after}`, `${before}${second}${after}`] as const);
    fc.assert(
      fc.property(nearTwins, ([first, second]) => {
        fc.pre(first !== second);
        assert.notEqual(toKey(first), toKey(second));
      }),
      runs,
    );
  });

  test('a key is never longer than the limit and never holds a character Azure Table forbids', () => {
    fc.assert(
      fc.property(anyId, anyId, anyId, (channelId, conversationId, tenantId) => {
        const { partitionKey, rowKey } = keyOf({ channelId, conversationId, tenantId });
        for (const key of [partitionKey, rowKey, legacyKeyOf({ channelId, conversationId }).partitionKey]) {
          assert.ok(key.length <= maxKeyLength, `${key.length} characters`);
          assert.doesNotMatch(key, forbiddenInKeys);
          assert.equal(key.isWellFormed(), true);
        }
      }),
      runs,
    );
  });

  const inRange = (key: string, prefix: string): boolean => key >= prefix && key < prefixEnd(prefix);

  test("a conversation's partition lies in its tenant's key range, and in its tenant-and-channel range", () => {
    fc.assert(
      fc.property(anyId, anyId, anyId, (channelId, conversationId, tenantId) => {
        const { partitionKey } = keyOf({ channelId, conversationId, tenantId });
        assert.ok(inRange(partitionKey, partitionPrefix(tenantId)));
        assert.ok(inRange(partitionKey, partitionPrefix(tenantId, channelId)));
      }),
      runs,
    );
  });

  test("a conversation's partition never lies in another tenant's key range", () => {
    fc.assert(
      fc.property(anyId, anyId, anyId, anyId, (channelId, conversationId, tenantId, otherTenant) => {
        fc.pre(tenantId !== otherTenant);
        assert.equal(inRange(keyOf({ channelId, conversationId, tenantId }).partitionKey, partitionPrefix(otherTenant)), false);
      }),
      runs,
    );
  });

  test('a partition of the first scheme (the channel id) is never taken for one of the current scheme, nor the reverse', () => {
    fc.assert(
      fc.property(anyId, anyId, anyId, (channelId, conversationId, tenantId) => {
        assert.equal(isLegacyPartitionKey(legacyKeyOf({ channelId, conversationId }).partitionKey), true);
        assert.equal(isLegacyPartitionKey(keyOf({ channelId, conversationId, tenantId }).partitionKey), false);
      }),
      runs,
    );
  });
});
