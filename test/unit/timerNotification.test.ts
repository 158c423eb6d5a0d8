import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../shared/settings';
import { planTimerNotification } from '../../shared/notifications/timerNotification';

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
