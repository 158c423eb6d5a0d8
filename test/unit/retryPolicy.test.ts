import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../shared/delivery/retryPolicy';

const now = Date.parse('2026-11-25T12:00:00Z');

describe('parseRetryAfter', () => {
  test('reads delay-seconds as milliseconds', () => {
    assert.equal(parseRetryAfter('3', now), 3_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
  });

  test('accepts fractional seconds, as test channels send them', () => {
    assert.equal(parseRetryAfter('0.25', now), 250);
  });

  test('reads an HTTP-date as the time left until then', () => {
    assert.equal(parseRetryAfter('Wed, 25 Nov 2026 12:00:05 GMT', now), 5_000);
  });

  test('an HTTP-date in the past means retry now', () => {
    assert.equal(parseRetryAfter('Wed, 25 Nov 2026 11:59:00 GMT', now), 0);
  });

  test('garbage is ignored, so the caller falls back to backoff', () => {
    for (const garbage of ['soon', '-1', '1e3', '12abc', 'Wed, 99 Foo 2026 GMT', 'Infinity']) {
      assert.equal(parseRetryAfter(garbage, now), undefined, garbage);
    }
  });

  test('an absent or empty header gives no delay', () => {
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
  });
});

describe('backoff', () => {
  const fixed = (random: number) => ({ baseDelayMs: 1_000, maxDelayMs: 30_000, random: () => random });

  test('doubles with each retry, half of it jittered', () => {
    assert.deepEqual([1, 2, 3, 4].map((retry) => backoffDelay(retry, fixed(0))), [500, 1_000, 2_000, 4_000]);
    assert.deepEqual([1, 2, 3, 4].map((retry) => backoffDelay(retry, fixed(0.999999))).map(Math.round), [1_000, 2_000, 4_000, 8_000]);
  });

  test('never exceeds the cap', () => {
    assert.ok(backoffDelay(20, fixed(0.999999)) <= 30_000);
  });

  test('the channel’s Retry-After wins over backoff', () => {
    assert.equal(retryDelay(3, 1_500, fixed(0.5)), 1_500);
    assert.equal(retryDelay(1, undefined, fixed(0)), 500);
  });
});
