import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { validateSendAt } from '../../shared/notifications/sendAt';
import { parseNotificationRequest, requestFingerprint } from '../../shared/notifications/notificationRequest';

const now = new Date('2026-12-04T12:00:00Z');
const limits = { maxMessageBytes: 80 * 1024 };

describe('sendAt', () => {
  test('an ISO 8601 time with a UTC offset, from now up to 7 days ahead, is accepted as that instant', () => {
    for (const [text, instant] of [
      ['2026-12-05T09:00:00+01:00', '2026-12-05T08:00:00.000Z'],
      ['2026-12-04T12:30Z', '2026-12-04T12:30:00.000Z'],
      ['2026-12-11T11:59:59.5-00:00', '2026-12-11T11:59:59.500Z'],
      ['2026-12-04T11:59:30Z', '2026-12-04T11:59:30.000Z'],
    ]) {
      const check = validateSendAt(text, now);
      assert.ok(check.ok, `${text}: ${check.ok ? '' : check.error}`);
      assert.equal(check.sendAt.toISOString(), instant);
    }
  });

  test('a time in the past, beyond 7 days, without an offset or not a real date is refused, naming the field', () => {
    for (const [text, problem] of [
      ['2026-12-04T11:58:00Z', /in the past/],
      ['2026-12-11T12:00:01Z', /more than 7 days ahead/],
      ['2026-12-05T09:00:00', /UTC offset/],
      ['2026-02-30T09:00:00Z', /not a real date/],
      ['2026-12-05 09:00:00Z', /ISO 8601/],
      ['next week', /ISO 8601/],
    ] as const) {
      const check = validateSendAt(text, now);
      assert.equal(check.ok, false, text);
      assert.match(check.ok ? '' : check.error, /^"sendAt" /);
      assert.match(check.ok ? '' : check.error, problem);
    }
  });

  test('POST /api/notify does not take sendAt: it is an unknown field there', () => {
    const parsed = parseNotificationRequest(JSON.stringify({ text: 'hi', sendAt: '2026-12-05T09:00:00Z' }), limits);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.errors.join(' '), /Unknown field "sendAt"/);
  });

  test('the fingerprint of a request without sendAt is what it was before sendAt existed', () => {
    const activity = { type: 'message', text: 'hi' };
    // What the fingerprint was before: the sha256 of {"activity":…,"filter":null} with sorted keys.
    const before = createHash('sha256').update(JSON.stringify({ activity: { text: 'hi', type: 'message' }, filter: null })).digest('base64url');
    assert.equal(requestFingerprint({ activity }), before);
    assert.notEqual(requestFingerprint({ activity }), requestFingerprint({ activity, sendAt: new Date('2026-12-05T09:00:00Z') }));
  });
});
