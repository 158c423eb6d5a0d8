import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localSendAt } from '../../shared/notifications/localSendAt';
import { validateSendAt } from '../../shared/notifications/sendAt';

/**
 * The console's "Send later" field, read in a browser's time zone: Node takes a new TZ at once,
 * so each case sets the zone the browser would have.
 */

function inZone<T>(timeZone: string, run: () => T): T {
  const previous = process.env['TZ'];
  process.env['TZ'] = timeZone;
  try {
    return run();
  } finally {
    if (previous === undefined) delete process.env['TZ'];
    else process.env['TZ'] = previous;
  }
}

const now = new Date('2026-12-04T12:00:00Z');

describe('Send later in the browser time zone', () => {
  test('a local date and time becomes sendAt with the offset the zone has on that date, and the API takes it as the same instant', () => {
    for (const [zone, local, from, sendAt, instant] of [
      ['Europe/Berlin', '2026-12-05T09:00', now, '2026-12-05T09:00:00+01:00', '2026-12-05T08:00:00.000Z'],
      ['Europe/Berlin', '2026-07-01T09:00:30', new Date('2026-06-30T12:00:00Z'), '2026-07-01T09:00:30+02:00', '2026-07-01T07:00:30.000Z'],
      ['Asia/Kolkata', '2026-12-04T18:00', now, '2026-12-04T18:00:00+05:30', '2026-12-04T12:30:00.000Z'],
      ['America/St_Johns', '2026-12-04T09:00', now, '2026-12-04T09:00:00-03:30', '2026-12-04T12:30:00.000Z'],
      ['UTC', '2026-12-11T12:00', now, '2026-12-11T12:00:00+00:00', '2026-12-11T12:00:00.000Z'],
    ] as const) {
      const check = inZone(zone, () => localSendAt(local, from));
      assert.ok(check.ok, `${zone} ${local}: ${check.ok ? '' : check.problem}`);
      assert.equal(check.sendAt, sendAt, `${zone} ${local}`);
      const api = validateSendAt(check.sendAt, from);
      assert.ok(api.ok, `the API accepts ${check.sendAt}`);
      assert.equal(api.sendAt.toISOString(), instant);
    }
  });

  test('refuses what the API would refuse: nothing chosen, a time passed, more than 7 days ahead', () => {
    for (const [local, problem] of [
      ['', /Choose the date and time/],
      ['2026-12-04T11:58', /has passed/],
      ['2026-12-11T12:01', /more than 7 days ahead/],
      ['tomorrow', /not a date and time/],
    ] as const) {
      const check = inZone('UTC', () => localSendAt(local, now));
      assert.equal(check.ok, false, local);
      assert.match(check.ok ? '' : check.problem, problem);
      assert.equal(validateSendAt(`${local}Z`, now).ok, false, `the API refuses ${local}Z too`);
    }
  });

  test('takes a time in the last minute as now, as the API does', () => {
    const check = inZone('UTC', () => localSendAt('2026-12-04T11:59:30', now));
    assert.ok(check.ok);
  });

  test('says so when the chosen time does not exist because the clocks go forward', () => {
    // Berlin went from 02:00 to 03:00 on 29 March 2026.
    const check = inZone('Europe/Berlin', () => localSendAt('2026-03-29T02:30', new Date('2026-03-28T12:00:00Z')));
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.problem, /2026-03-29 02:30 does not exist in your time zone/);
  });
});
