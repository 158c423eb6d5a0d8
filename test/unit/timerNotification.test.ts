import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../shared/settings';
import { planTimerNotification, timerNotificationId } from '../../shared/notifications/timerNotification';
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
    assert.deepEqual(plan, { kind: 'send', activity: { type: 'message', text: 'Standup in 5' } });
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

describe('timerNotificationId', () => {
  it('is the same for every run of one occurrence, late runs included, and another for the next occurrence', () => {
    const schedule = '0 0 9 * * 1-5';
    const onTime = timerNotificationId(schedule, new Date('2026-11-27T09:00:00.020Z'));
    assert.equal(onTime, 'notifyTimer-2026-11-27T09:00:00.000Z');
    assert.equal(timerNotificationId(schedule, new Date('2026-11-27T09:00:03.500Z')), onTime, 'a second fire a few seconds later');
    assert.equal(timerNotificationId(schedule, new Date('2026-11-27T11:30:00Z')), onTime, 'a past-due run hours later');
    assert.equal(timerNotificationId(schedule, new Date('2026-11-30T09:00:00.010Z')), 'notifyTimer-2026-11-30T09:00:00.000Z', 'Monday after Friday');
  });

  it('tells apart occurrences seconds apart, and reads the schedule in the given time zone', () => {
    assert.equal(timerNotificationId('*/10 * * * * *', new Date('2026-11-27T09:00:19.900Z')), 'notifyTimer-2026-11-27T09:00:10.000Z');
    assert.equal(timerNotificationId('*/10 * * * * *', new Date('2026-11-27T09:00:20.100Z')), 'notifyTimer-2026-11-27T09:00:20.000Z');
    assert.equal(timerNotificationId('0 0 9 * * *', new Date('2026-11-27T08:00:01Z'), 'Europe/Paris'), 'notifyTimer-2026-11-27T08:00:00.000Z');
  });

  it('is a valid notification id', () => {
    assert.match(timerNotificationId('0 0 9 * * 1-5', new Date()), notificationIdPattern);
  });
});
