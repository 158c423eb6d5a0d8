import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../shared/settings';
import { catchUpWindowMinutes, dueTimerOccurrence, planTimerNotification } from '../../shared/notifications/timerNotification';
import { ZonedSchedule } from '../../shared/notifications/zonedSchedule';
import { notificationIdPattern } from '../../shared/notifications/notificationRequest';

function settings(values: Record<string, string>) {
  return loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...values });
}

describe('planTimerNotification', () => {
  it('stays idle and says why when NOTIFY_SCHEDULE is not set', () => {
    const plan = planTimerNotification(settings({ NOTIFY_TIMER_MESSAGE: 'Standup in 5' }));
    assert.equal(plan.kind, 'idle');
    assert.match(plan.kind === 'idle' ? plan.reason : '', /NOTIFY_SCHEDULE/);
  });

  it('sends NOTIFY_TIMER_MESSAGE to everyone when no target is set', () => {
    const plan = planTimerNotification(settings({ NOTIFY_SCHEDULE: '0 0 9 * * 1-5', NOTIFY_TIMER_MESSAGE: 'Standup in 5' }));
    assert.equal(plan.kind, 'send');
    assert.deepEqual(plan.kind === 'send' ? [plan.activity, plan.filter] : [], [{ type: 'message', text: 'Standup in 5' }, undefined]);
  });

  it('reads NOTIFY_SCHEDULE in NOTIFY_SCHEDULE_TIME_ZONE, which wins over WEBSITE_TIME_ZONE', () => {
    const plan = planTimerNotification(
      settings({ NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_TIMER_MESSAGE: 'hi', NOTIFY_SCHEDULE_TIME_ZONE: 'America/New_York', WEBSITE_TIME_ZONE: 'Europe/Berlin' }),
    );
    assert.equal(plan.kind === 'send' ? plan.schedule.timeZone : '', 'America/New_York');
    const websiteOnly = planTimerNotification(settings({ NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_TIMER_MESSAGE: 'hi', WEBSITE_TIME_ZONE: 'Europe/Berlin' }));
    assert.equal(websiteOnly.kind === 'send' ? websiteOnly.schedule.timeZone : '', 'Europe/Berlin');
  });

  it('reads the schedule in this machine\'s zone when neither zone is set, as the Functions host does', () => {
    const plan = planTimerNotification(settings({ NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_TIMER_MESSAGE: 'hi' }));
    assert.equal(plan.kind === 'send' ? plan.schedule.timeZone : '', new Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('fails the timer alone, naming NOTIFY_SCHEDULE_TIME_ZONE as the fix, when WEBSITE_TIME_ZONE is a Windows name', () => {
    const windows = { NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_TIMER_MESSAGE: 'hi', WEBSITE_TIME_ZONE: 'W. Europe Standard Time' };
    assert.throws(
      () => planTimerNotification(settings(windows)),
      (error: unknown) => error instanceof SettingsError && error.setting === 'WEBSITE_TIME_ZONE' && /NOTIFY_SCHEDULE_TIME_ZONE/.test(error.message),
    );
    const fixed = planTimerNotification(settings({ ...windows, NOTIFY_SCHEDULE_TIME_ZONE: 'Europe/Berlin' }));
    assert.equal(fixed.kind === 'send' ? fixed.schedule.timeZone : '', 'Europe/Berlin');
  });

  it('throws a SettingsError naming NOTIFY_SCHEDULE when the schedule is not a 6-field NCRONTAB expression', () => {
    for (const schedule of ['0 9 * * 1-5', '0 0 25 * * *', 'every morning']) {
      assert.throws(
        () => planTimerNotification(settings({ NOTIFY_SCHEDULE: schedule, NOTIFY_TIMER_MESSAGE: 'hi' })),
        (error: unknown) => error instanceof SettingsError && error.setting === 'NOTIFY_SCHEDULE',
        schedule,
      );
    }
  });

  it('stays idle and says why when NOTIFY_TIMER_MESSAGE is not set, even with a default message', () => {
    const plan = planTimerNotification(settings({ NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_DEFAULT_MESSAGE: 'Daily hello' }));
    assert.equal(plan.kind, 'idle');
    assert.match(plan.kind === 'idle' ? plan.reason : '', /NOTIFY_TIMER_MESSAGE/);
  });

  it('narrows the recipients with NOTIFY_TIMER_TARGET, validated like the POST target', () => {
    const plan = planTimerNotification(
      settings({
        NOTIFY_SCHEDULE: '0 0 9 * * *',
        NOTIFY_TIMER_MESSAGE: 'Standup in 5',
        NOTIFY_TIMER_TARGET: '{"tenantIds":["t1"],"conversationTypes":["personal"]}',
      }),
    );
    assert.deepEqual(plan.kind === 'send' ? plan.filter : undefined, { tenantIds: ['t1'], conversationTypes: ['personal'] });
  });

  it('throws a SettingsError naming NOTIFY_TIMER_TARGET when the target is invalid', () => {
    for (const target of ['{"tenantIds":[]}', '{"teams":["x"]}', '{}', '["t1"]']) {
      assert.throws(
        () => planTimerNotification(settings({ NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_TIMER_MESSAGE: 'hi', NOTIFY_TIMER_TARGET: target })),
        (error: unknown) => error instanceof SettingsError && error.setting === 'NOTIFY_TIMER_TARGET',
        target,
      );
    }
  });

  it('throws a SettingsError when the message is larger than the channel accepts', () => {
    assert.throws(
      () => planTimerNotification(settings({ NOTIFY_SCHEDULE: '0 0 9 * * *', NOTIFY_TIMER_MESSAGE: 'a'.repeat(50_000) })),
      (error: unknown) => error instanceof SettingsError && error.setting === 'NOTIFY_TIMER_MESSAGE',
    );
  });
});

/** What the every-minute trigger queues from `from` to `to`: the distinct notification ids, in order, as local times too. */
function sentByTheMinute(schedule: string, timeZone: string, from: string, to: string, { skip = [] as string[] } = {}): string[] {
  const zoned = new ZonedSchedule(schedule, timeZone);
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'medium' });
  const sent: string[] = [];
  for (let tick = Date.parse(from); tick < Date.parse(to); tick += 60_000) {
    if (skip.includes(new Date(tick).toISOString())) continue;
    // A firing lands a little after the minute.
    const due = dueTimerOccurrence(zoned, new Date(tick + 150));
    if (due.kind === 'due' && !sent.some((line) => line.startsWith(due.id))) sent.push(`${due.id} ${local.format(due.occurrence)}`);
  }
  return sent;
}

describe('dueTimerOccurrence', () => {
  const weekdays9 = new ZonedSchedule('0 0 9 * * 1-5', 'UTC');
  const idAt = (schedule: ZonedSchedule, now: string): string | undefined => {
    const due = dueTimerOccurrence(schedule, new Date(now));
    return due.kind === 'due' ? due.id : undefined;
  };

  it('gives every run that finds one occurrence (a second firing, another instance, a late run) the same id, and the next occurrence another', () => {
    const onTime = idAt(weekdays9, '2026-11-27T09:00:00.020Z');
    assert.equal(onTime, 'notifyTimer-2026-11-27T09:00:00.000Z');
    assert.equal(idAt(weekdays9, '2026-11-27T09:00:03.500Z'), onTime, 'a second firing a few seconds later');
    assert.equal(idAt(weekdays9, '2026-11-27T09:01:00.100Z'), onTime, 'the next minute\'s run');
    assert.equal(idAt(weekdays9, '2026-11-30T09:00:00.010Z'), 'notifyTimer-2026-11-30T09:00:00.000Z', 'Monday after Friday');
    assert.match(onTime ?? '', notificationIdPattern);
  });

  it('makes up a run missed for a minute or more, up to the 10-minute catch-up window, and not after it', () => {
    assert.equal(catchUpWindowMinutes, 10);
    assert.deepEqual(sentByTheMinute('0 0 9 * * *', 'UTC', '2026-11-27T08:58:00Z', '2026-11-27T09:05:00Z', { skip: ['2026-11-27T09:00:00.000Z'] }), [
      'notifyTimer-2026-11-27T09:00:00.000Z 2026-11-27 09:00:00',
    ]);
    assert.equal(idAt(weekdays9, '2026-11-27T09:09:59Z'), 'notifyTimer-2026-11-27T09:00:00.000Z');
    assert.equal(idAt(weekdays9, '2026-11-27T09:10:00.001Z'), undefined, 'beyond the window');
    assert.equal(idAt(weekdays9, '2026-11-27T08:59:59.999Z'), undefined, 'before the occurrence');
  });

  it('sends occurrences closer together than the runs once, the latest', () => {
    const everyTenSeconds = new ZonedSchedule('*/10 * * * * *', 'UTC');
    assert.equal(idAt(everyTenSeconds, '2026-11-27T09:00:19.900Z'), 'notifyTimer-2026-11-27T09:00:10.000Z');
    assert.equal(idAt(everyTenSeconds, '2026-11-27T09:01:00.150Z'), 'notifyTimer-2026-11-27T09:01:00.000Z');
  });

  it('reads the schedule in its time zone', () => {
    assert.equal(idAt(new ZonedSchedule('0 0 9 * * *', 'Europe/Paris'), '2026-11-27T08:00:01Z'), 'notifyTimer-2026-11-27T08:00:00.000Z');
  });

  describe('Europe/Berlin (clocks forward 2026-03-29 02:00 -> 03:00, back 2026-10-25 03:00 -> 02:00)', () => {
    it('keeps 09:00 daily at 09:00 local across both changes', () => {
      assert.deepEqual(sentByTheMinute('0 0 9 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z'), [
        'notifyTimer-2026-03-28T08:00:00.000Z 2026-03-28 09:00:00',
        'notifyTimer-2026-03-29T07:00:00.000Z 2026-03-29 09:00:00',
      ]);
      assert.deepEqual(sentByTheMinute('0 0 9 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'), [
        'notifyTimer-2026-10-24T07:00:00.000Z 2026-10-24 09:00:00',
        'notifyTimer-2026-10-25T08:00:00.000Z 2026-10-25 09:00:00',
      ]);
    });

    it('sends 02:30 daily once on the spring-forward day, at 03:00 local, when 02:30 does not exist', () => {
      assert.deepEqual(sentByTheMinute('0 30 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z'), [
        'notifyTimer-2026-03-28T01:30:00.000Z 2026-03-28 02:30:00',
        'notifyTimer-2026-03-29T01:00:00.000Z 2026-03-29 03:00:00',
        'notifyTimer-2026-03-30T00:30:00.000Z 2026-03-30 02:30:00',
      ]);
    });

    it('sends 02:30 daily once on the fall-back day, the first time the clocks show 02:30 (summer time)', () => {
      assert.deepEqual(sentByTheMinute('0 30 2 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z'), [
        'notifyTimer-2026-10-24T00:30:00.000Z 2026-10-24 02:30:00',
        'notifyTimer-2026-10-25T00:30:00.000Z 2026-10-25 02:30:00',
        'notifyTimer-2026-10-26T01:30:00.000Z 2026-10-26 02:30:00',
      ]);
    });

    it('sends an hourly schedule once for every local hour on the fall-back day (02:00 once)', () => {
      const sent = sentByTheMinute('0 0 * * * *', 'Europe/Berlin', '2026-10-24T22:30:00Z', '2026-10-25T04:30:00Z');
      assert.deepEqual(sent.map((line) => line.slice(-8)), ['01:00:00', '02:00:00', '03:00:00', '04:00:00', '05:00:00']);
    });
  });

  describe('America/New_York (clocks forward 2026-03-08 02:00 -> 03:00, back 2026-11-01 02:00 -> 01:00)', () => {
    it('keeps 09:00 daily at 09:00 local across both changes', () => {
      assert.deepEqual(sentByTheMinute('0 0 9 * * *', 'America/New_York', '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z'), [
        'notifyTimer-2026-03-07T14:00:00.000Z 2026-03-07 09:00:00',
        'notifyTimer-2026-03-08T13:00:00.000Z 2026-03-08 09:00:00',
      ]);
      assert.deepEqual(sentByTheMinute('0 0 9 * * *', 'America/New_York', '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'), [
        'notifyTimer-2026-10-31T13:00:00.000Z 2026-10-31 09:00:00',
        'notifyTimer-2026-11-01T14:00:00.000Z 2026-11-01 09:00:00',
      ]);
    });

    it('sends 02:30 daily once on the spring-forward day, at 03:00 local, when 02:30 does not exist', () => {
      assert.deepEqual(sentByTheMinute('0 30 2 * * *', 'America/New_York', '2026-03-07T05:00:00Z', '2026-03-10T05:00:00Z'), [
        'notifyTimer-2026-03-07T07:30:00.000Z 2026-03-07 02:30:00',
        'notifyTimer-2026-03-08T07:00:00.000Z 2026-03-08 03:00:00',
        'notifyTimer-2026-03-09T06:30:00.000Z 2026-03-09 02:30:00',
      ]);
    });

    it('sends 01:30 daily once on the fall-back day, the first time the clocks show 01:30 (daylight time)', () => {
      assert.deepEqual(sentByTheMinute('0 30 1 * * *', 'America/New_York', '2026-10-31T04:00:00Z', '2026-11-03T04:00:00Z'), [
        'notifyTimer-2026-10-31T05:30:00.000Z 2026-10-31 01:30:00',
        'notifyTimer-2026-11-01T05:30:00.000Z 2026-11-01 01:30:00',
        'notifyTimer-2026-11-02T06:30:00.000Z 2026-11-02 01:30:00',
      ]);
    });
  });
});
