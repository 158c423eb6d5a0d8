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

  it('reads a managed-identity bot: its client id, its tenant, no password', () => {
    const settings = loadSettings({ ...minimal, MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppId: 'client-id', MicrosoftAppTenantId: 'tenant-id' });
    assert.deepEqual([settings.microsoftAppType, settings.microsoftAppId, settings.microsoftAppTenantId, settings.microsoftAppPassword], ['UserAssignedMSI', 'client-id', 'tenant-id', '']);
  });

  it('reads NOTIFY_SCHEDULE_TIME_ZONE as an IANA name, and leaves WEBSITE_TIME_ZONE, the platform\'s setting, as given', () => {
    assert.equal(loadSettings({ ...minimal, NOTIFY_SCHEDULE_TIME_ZONE: 'Europe/Berlin' }).scheduleTimeZone, 'Europe/Berlin');
    assert.equal(loadSettings({ ...minimal, NOTIFY_SCHEDULE_TIME_ZONE: 'america/new_york' }).scheduleTimeZone, 'America/New_York');
    assert.equal(loadSettings(minimal).scheduleTimeZone, '');
    // A Windows plan's WEBSITE_TIME_ZONE holds a Windows name: only the timer needs to read it (timerNotification.test.ts).
    assert.equal(loadSettings({ ...minimal, WEBSITE_TIME_ZONE: 'W. Europe Standard Time' }).websiteTimeZone, 'W. Europe Standard Time');
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
    ['a managed-identity bot without the identity\'s client id', { ...minimal, MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: 't' }, /MicrosoftAppId is required when MicrosoftAppType is UserAssignedMSI/],
    ['a managed-identity bot with a password', { ...minimal, MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: 't', MicrosoftAppId: 'c', MicrosoftAppPassword: 'p' }, /MicrosoftAppPassword must be empty/],
    ['an unknown schedule time zone', { ...minimal, NOTIFY_SCHEDULE_TIME_ZONE: 'Europe/Atlantis' }, /NOTIFY_SCHEDULE_TIME_ZONE must be an IANA time zone name/],
    ['a Windows time zone name as the schedule time zone', { ...minimal, NOTIFY_SCHEDULE_TIME_ZONE: 'W. Europe Standard Time' }, /NOTIFY_SCHEDULE_TIME_ZONE/],
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
