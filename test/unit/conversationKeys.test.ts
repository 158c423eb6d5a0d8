import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketCount, escapeKey, isHashedKey, isLegacyPartitionKey, keyOf, legacyKeyOf, maxKeyLength, toKey, unescapeKey } from '../../shared/storage/conversationKeys';
import { hostileIds } from '../support/hostileIds';

/** A small seeded generator (mulberry32), so every run checks the same strings. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings of code points drawn from all of Unicode except surrogates, which UTF-8 cannot encode alone. */
function randomIds(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const codePoint = (): number => {
    // Half from ASCII and Latin-1 (where the forbidden characters are), half from anywhere.
    const candidate = random() < 0.5 ? Math.floor(random() * 0x100) : Math.floor(random() * 0x110000);
    return candidate >= 0xd800 && candidate <= 0xdfff ? candidate + 0x800 : candidate;
  };
  return Array.from({ length: count }, () =>
    String.fromCodePoint(...Array.from({ length: 1 + Math.floor(random() * 40) }, codePoint)),
  );
}

const forbiddenInKeys = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
const allIds = [...hostileIds, ...randomIds(2000, 20261125)];

describe('conversation keys', () => {
  test('escaping then unescaping gives back every id', () => {
    for (const id of allIds) assert.equal(unescapeKey(escapeKey(id)), id, JSON.stringify(id.slice(0, 60)));
  });

  test('keys never contain characters Azure Table forbids', () => {
    for (const id of allIds) {
      assert.doesNotMatch(escapeKey(id), forbiddenInKeys, JSON.stringify(id.slice(0, 60)));
      assert.doesNotMatch(toKey(id), forbiddenInKeys, JSON.stringify(id.slice(0, 60)));
    }
  });

  test('keys never exceed the key length limit', () => {
    for (const id of [...allIds, 'x'.repeat(100_000), '😀'.repeat(5_000)]) assert.ok(toKey(id).length <= maxKeyLength);
  });

  test('distinct ids give distinct keys', () => {
    const unique = [...new Set(allIds)];
    assert.equal(new Set(unique.map(toKey)).size, unique.length);
  });

  test('readable Teams and Bot Framework ids are used unchanged as keys', () => {
    for (const id of [
      '19:abc@thread.tacv2;messageid=1690000000000',
      '19:meeting_NzQ4YjY5@thread.v2',
      'a:1XyZ_Hqx8Ws9Ab3-TxUfLd9YXv3rPGgZvS8cR0k7f2wEmQ',
      'msteams',
      'emulator',
    ]) {
      assert.equal(toKey(id), id);
    }
  });

  test('a forbidden character becomes ! and its UTF-8 bytes in hex', () => {
    assert.equal(escapeKey('a/b'), 'a!2Fb');
    assert.equal(escapeKey('é'), '!C3!A9');
    assert.equal(escapeKey('!'), '!21');
  });

  test('an id whose escaped form exceeds the limit is stored under a SHA-256 key', () => {
    const atLimit = 'x'.repeat(maxKeyLength);
    assert.equal(toKey(atLimit), atLimit);
    assert.equal(isHashedKey(toKey(atLimit)), false);

    const long = 'x'.repeat(2000);
    assert.equal(isHashedKey(toKey(long)), true);
    assert.match(toKey(long), /^~sha256~[0-9a-f]{64}$/);
    assert.equal(toKey(long), toKey('x'.repeat(2000)));
    // Escaping counts: 200 slashes are 600 characters once escaped.
    assert.equal(isHashedKey(toKey('/'.repeat(200))), true);
  });

  test('long ids that share a 600-character prefix get different keys', () => {
    const prefix = 'p'.repeat(600);
    assert.notEqual(toKey(prefix + 'one'), toKey(prefix + 'two'));
  });

  test('an id that looks like a hashed key is escaped, so it cannot collide with one', () => {
    const lookalike = toKey('x'.repeat(2000));
    assert.equal(isHashedKey(toKey(lookalike)), false);
    assert.notEqual(toKey(lookalike), lookalike);
  });

  test('the partition key is the escaped tenant and channel ids and a bucket, and the row key the escaped conversation id', () => {
    const { partitionKey, rowKey } = keyOf({ channelId: 'msteams', conversationId: "a/b'c", tenantId: 't/1' });
    assert.equal(rowKey, 'a!2Fb!27c');
    assert.match(partitionKey, /^~2,t!2F1,msteams,[0-9a-f]$/);
  });

  test('a key of the first scheme is the escaped channel id and the escaped conversation id, and is told apart from a current one', () => {
    assert.deepEqual(legacyKeyOf({ channelId: 'msteams', conversationId: "a/b'c" }), { partitionKey: 'msteams', rowKey: 'a!2Fb!27c' });
    assert.equal(isLegacyPartitionKey('msteams'), true);
    assert.equal(isLegacyPartitionKey(toKey('x'.repeat(2000))), true);
    assert.equal(isLegacyPartitionKey(keyOf({ channelId: 'msteams', conversationId: 'c', tenantId: 't' }).partitionKey), false);
  });

  test("a tenant's references spread over all 16 buckets", () => {
    const buckets = new Set(Array.from({ length: 400 }, (_, i) => keyOf({ channelId: 'msteams', conversationId: `a:${i}`, tenantId: 't' }).partitionKey));
    assert.equal(buckets.size, bucketCount);
  });
});
