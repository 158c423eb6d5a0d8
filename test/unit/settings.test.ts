import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../shared/settings';

const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('loadSettings', () => {
  it('gives the documented defaults for an empty configuration and freezes the result', () => {
    const settings = loadSettings(minimal);
    assert.equal(settings.defaultMessage, 'proactive hello');
    assert.equal(settings.microsoftAppType, 'MultiTenant');
    assert.equal(settings.conversationsTable, 'conversations');
    assert.equal(settings.tenantRatePerSecond, 50);
    assert.equal(settings.conversationRatePerSecond, 7);
    assert.equal(settings.maxMessageBytes, 81920);
    assert.equal(settings.messagesMaxBodyBytes, 262144);
    assert.equal(settings.notifyMaxBodyBytes, 1048576);
    assert.equal(settings.allowOptOut, true);
    assert.equal(settings.notificationsRetentionDays, 90);
    assert.ok(Object.isFrozen(settings));
  });

  it('reads opt-out as true or false, and a retention of 0 days', () => {
    assert.equal(loadSettings({ ...minimal, NOTIFY_ALLOW_OPT_OUT: 'false' }).allowOptOut, false);
    assert.equal(loadSettings({ ...minimal, NOTIFY_ALLOW_OPT_OUT: 'True' }).allowOptOut, true);
    assert.equal(loadSettings({ ...minimal, NOTIFICATIONS_RETENTION_DAYS: '0' }).notificationsRetentionDays, 0);
  });

  it('accepts the app type in any case, as botbuilder does', () => {
    assert.equal(loadSettings({ ...minimal, MicrosoftAppType: 'multitenant' }).microsoftAppType, 'MultiTenant');
  });

  it('leaves a malformed timer target to the timer, so the bot and notify keep working', () => {
    assert.equal(loadSettings({ ...minimal, NOTIFY_TIMER_TARGET: '{tenantIds' }).timerTarget, '{tenantIds');
  });

  it('prefers the conversation storage override over AzureWebJobsStorage', () => {
    const settings = loadSettings({ ...minimal, CONVERSATIONS_STORAGE_CONNECTION: 'UseDevelopmentStorage=true;x=1' });
    assert.deepEqual(settings.conversationsStorage, { kind: 'connectionString', setting: 'CONVERSATIONS_STORAGE_CONNECTION', connectionString: 'UseDevelopmentStorage=true;x=1' });
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ['a missing storage connection', {}, /AzureWebJobsStorage is missing/],
    ['an unknown app type', { ...minimal, MicrosoftAppType: 'Personal' }, /MicrosoftAppType must be one of/],
    ['a rate that is not a number', { ...minimal, NOTIFY_TENANT_RATE_PER_SECOND: 'fast' }, /NOTIFY_TENANT_RATE_PER_SECOND must be a positive number/],
    ['a fractional concurrency', { ...minimal, NOTIFY_CONCURRENCY: '2.5' }, /NOTIFY_CONCURRENCY must be a positive integer/],
    ['a body limit that is not a whole number of bytes', { ...minimal, MESSAGES_MAX_BODY_BYTES: '256KB' }, /MESSAGES_MAX_BODY_BYTES must be a positive integer/],
    ['a zero attempt count', { ...minimal, NOTIFY_MAX_ATTEMPTS: '0' }, /NOTIFY_MAX_ATTEMPTS/],
    ['a table name with a dash', { ...minimal, CONVERSATIONS_TABLE: 'my-table' }, /CONVERSATIONS_TABLE/],
    ['a single-tenant bot without its tenant', { ...minimal, MicrosoftAppType: 'SingleTenant' }, /MicrosoftAppTenantId is required/],
    ['an opt-out switch that is neither true nor false', { ...minimal, NOTIFY_ALLOW_OPT_OUT: 'no' }, /NOTIFY_ALLOW_OPT_OUT must be true or false/],
    ['a negative retention', { ...minimal, NOTIFICATIONS_RETENTION_DAYS: '-1' }, /NOTIFICATIONS_RETENTION_DAYS must be a whole number of 0 or more/],
    ['a retention that is not a whole number of days', { ...minimal, NOTIFICATIONS_RETENTION_DAYS: '1.5' }, /NOTIFICATIONS_RETENTION_DAYS/],
    ['a notify deadline beyond what an HTTP call may last', { ...minimal, NOTIFY_DEADLINE_SECONDS: '300' }, /NOTIFY_DEADLINE_SECONDS must leave time/],
  ];
  for (const [description, env, message] of invalid) {
    it(`refuses ${description} with an error naming the setting`, () => {
      assert.throws(() => loadSettings(env), (error: unknown) => error instanceof SettingsError && message.test(error.message));
    });
  }
});
