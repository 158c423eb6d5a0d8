/** Every app setting the product reads, parsed once into a typed, frozen object. */

import { readBotFrameworkEndpoints, type BotFrameworkEndpoints } from './botFrameworkEndpoints';
import { SettingsError } from './settingsError';
import { canonicalTimeZone } from './timeZones';
import { readStorageConnection, type StorageConnection } from './storageConnection';

export { SettingsError } from './settingsError';
export type { StorageConnection, StorageIdentity } from './storageConnection';
export type { BotFrameworkEndpoints } from './botFrameworkEndpoints';

export type AppType = 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';

export interface Settings {
  readonly microsoftAppId: string;
  readonly microsoftAppPassword: string;
  readonly microsoftAppType: AppType;
  readonly microsoftAppTenantId: string;
  /** botbuilder's endpoint settings (ChannelService, ToBotFromChannelOpenIdMetadataUrl, ...), completed for the cloud in use. */
  readonly botFramework: BotFrameworkEndpoints;
  /** The storage account of the conversation and delivery tables: CONVERSATIONS_STORAGE_CONNECTION, else AzureWebJobsStorage. */
  readonly conversationsStorage: StorageConnection;
  /** AzureWebJobsStorage: the Functions host's own account (queues, timers). */
  readonly webJobsStorage: StorageConnection;
  readonly conversationsTable: string;
  /** Text sent by `GET /api/notify` (the timer sends only NOTIFY_TIMER_MESSAGE). */
  readonly defaultMessage: string;
  /** Timer: 6-field NCRONTAB, empty when the timer should do nothing. */
  readonly notifySchedule: string;
  readonly timerMessage: string;
  /** Timer targeting as the JSON of a `target` object, empty for everyone. */
  readonly timerTarget: string;
  /** NOTIFY_SCHEDULE_TIME_ZONE as its IANA name, empty when not set: the zone NOTIFY_SCHEDULE is read in, applied by the app itself. */
  readonly scheduleTimeZone: string;
  /**
   * WEBSITE_TIME_ZONE as given, empty when not set: the platform's zone for timers where it is supported
   * (not on Flex Consumption; Windows names on Windows). The timer reads NOTIFY_SCHEDULE in it when
   * NOTIFY_SCHEDULE_TIME_ZONE is not set (see shared/notifications/timerNotification.ts).
   */
  readonly websiteTimeZone: string;
  readonly tenantRatePerSecond: number;
  readonly conversationRatePerSecond: number;
  readonly concurrency: number;
  readonly maxAttempts: number;
  /** How long an HTTP notify run starts new sends (Azure cuts HTTP calls at 230 s). */
  readonly deadlineSeconds: number;
  /** Largest outgoing activity, counted as UTF-16 bytes like Teams does. */
  readonly maxMessageBytes: number;
  /** Largest request body `/api/messages` reads (Bot Framework's activity limit is 256 KB). */
  readonly messagesMaxBodyBytes: number;
  /** Largest request body `POST /api/notify`, `POST /api/notifications` and the preview read. */
  readonly notifyMaxBodyBytes: number;
  /** How long one queued work item (a planning or a delivery slice) works before it checkpoints and enqueues its continuation. */
  readonly notificationsSliceSeconds: number;
  /** How long a tenant's delivery lease lasts without renewal: what a crashed worker costs that tenant at most, beyond its message's visibility. */
  readonly tenantLeaseSeconds: number;
  /** NOTIFY_ALLOW_OPT_OUT: people may send the bot "stop" to get no more notifications in their personal chat. */
  readonly allowOptOut: boolean;
  /** How long a finished queued notification's rows are kept (0: removed at the next retention run). */
  readonly notificationsRetentionDays: number;
  /** MICROSOFT_GRAPH_URL without a trailing slash: Graph's base URL (sovereign clouds, local fakes); tokens are asked for `<its origin>/.default`. */
  readonly microsoftGraphUrl: string;
  /** NOTIFY_INSTALL_FOR_USERS: people with no conversation with the bot get the app installed for them through Graph. */
  readonly installForUsers: boolean;
  /** TEAMS_APP_CATALOG_ID: the app's id in the organisation's catalog; empty: looked up from the manifest id (MicrosoftAppId). */
  readonly teamsAppCatalogId: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const appTypes: readonly AppType[] = ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'];

/**
 * Azure's front end ends an HTTP call at 230 s. After the deadline a run still
 * waits for attempts in flight (up to 15 s each) and counts who was left
 * (up to 10 s), so the deadline must stop well before.
 */
const maxHttpDeadlineSeconds = 195;

/** A delivery slice may run one more batch past its end (see shared/queued/deliverer.ts), and functionTimeout is 10 minutes. */
const maxSliceSeconds = 240;

/**
 * A quarter: long enough to answer "who got it, who failed" about anything sent this quarter, and
 * far beyond what retries need (the ledger only has to outlive a retried request, hours at most).
 */
export const defaultRetentionDays = 90;

export function loadSettings(env: Env): Settings {
  const text = (name: string, fallback = ''): string => env[name]?.trim() || fallback;

  const positiveNumber = (name: string, fallback: number, { integer = false } = {}): number => {
    const raw = text(name);
    if (raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new SettingsError(name, `must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
    }
    return value;
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = text(name).toLowerCase();
    if (raw === '') return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new SettingsError(name, `must be true or false, got "${text(name)}"`);
  };

  const wholeNumber = (name: string, fallback: number): number => {
    const raw = text(name);
    if (raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new SettingsError(name, `must be a whole number of 0 or more, got "${raw}"`);
    return value;
  };

  const rawAppType = text('MicrosoftAppType', 'MultiTenant');
  // botbuilder compares the app type without regard to case; so do we.
  const appType = appTypes.find((type) => type.toLowerCase() === rawAppType.toLowerCase());
  if (appType === undefined) {
    throw new SettingsError('MicrosoftAppType', `must be one of ${appTypes.join(', ')}, got "${rawAppType}"`);
  }
  const microsoftAppTenantId = text('MicrosoftAppTenantId');
  if (appType !== 'MultiTenant' && microsoftAppTenantId === '') {
    throw new SettingsError('MicrosoftAppTenantId', `is required when MicrosoftAppType is ${appType}`);
  }
  if (appType === 'UserAssignedMSI' && text('MicrosoftAppId') === '') {
    throw new SettingsError('MicrosoftAppId', 'is required when MicrosoftAppType is UserAssignedMSI: the client id of the managed identity the bot signs in with');
  }
  if (appType === 'UserAssignedMSI' && text('MicrosoftAppPassword') !== '') {
    throw new SettingsError('MicrosoftAppPassword', 'must be empty when MicrosoftAppType is UserAssignedMSI: the managed identity signs in without a secret');
  }

  const deadlineSeconds = positiveNumber('NOTIFY_DEADLINE_SECONDS', 180);
  if (deadlineSeconds > maxHttpDeadlineSeconds) {
    throw new SettingsError(
      'NOTIFY_DEADLINE_SECONDS',
      `must leave time to answer within Azure's 230 s HTTP limit (at most ${maxHttpDeadlineSeconds}), got ${deadlineSeconds}`,
    );
  }

  // The Functions host needs AzureWebJobsStorage for timers and queues, so it is required even with its own table account.
  const webJobsStorage = readStorageConnection(env, 'AzureWebJobsStorage', { queues: true });
  if (webJobsStorage === undefined) {
    throw new SettingsError(
      'AzureWebJobsStorage',
      'is missing (use "UseDevelopmentStorage=true" for Azurite, or AzureWebJobsStorage__accountName for a managed identity)',
    );
  }
  const conversationsStorage = readStorageConnection(env, 'CONVERSATIONS_STORAGE_CONNECTION', { queues: false }) ?? webJobsStorage;

  // A queued work item must checkpoint well inside functionTimeout (10 min in host.json): a slice, plus one batch of sends after it.
  const notificationsSliceSeconds = positiveNumber('NOTIFICATIONS_SLICE_SECONDS', 60);
  if (notificationsSliceSeconds > maxSliceSeconds) {
    throw new SettingsError('NOTIFICATIONS_SLICE_SECONDS', `must leave a queued work item time to finish inside functionTimeout (at most ${maxSliceSeconds}), got ${notificationsSliceSeconds}`);
  }

  const conversationsTable = text('CONVERSATIONS_TABLE', 'conversations');
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(conversationsTable)) {
    throw new SettingsError('CONVERSATIONS_TABLE', `must be 3-63 letters or digits starting with a letter, got "${conversationsTable}"`);
  }

  const installForUsers = flag('NOTIFY_INSTALL_FOR_USERS', false);
  const teamsAppCatalogId = text('TEAMS_APP_CATALOG_ID');
  if (installForUsers && teamsAppCatalogId === '' && text('MicrosoftAppId') === '') {
    throw new SettingsError(
      'TEAMS_APP_CATALOG_ID',
      'is required when NOTIFY_INSTALL_FOR_USERS is true and MicrosoftAppId is empty (the catalog id is otherwise looked up from the app id)',
    );
  }

  return Object.freeze({
    microsoftAppId: text('MicrosoftAppId'),
    microsoftAppPassword: text('MicrosoftAppPassword'),
    microsoftAppType: appType,
    microsoftAppTenantId,
    botFramework: readBotFrameworkEndpoints(env),
    conversationsStorage,
    webJobsStorage,
    conversationsTable,
    defaultMessage: text('NOTIFY_DEFAULT_MESSAGE', 'proactive hello'),
    notifySchedule: text('NOTIFY_SCHEDULE'),
    timerMessage: text('NOTIFY_TIMER_MESSAGE'),
    timerTarget: text('NOTIFY_TIMER_TARGET'),
    scheduleTimeZone: readScheduleTimeZone(text('NOTIFY_SCHEDULE_TIME_ZONE')),
    websiteTimeZone: text('WEBSITE_TIME_ZONE'),
    tenantRatePerSecond: positiveNumber('NOTIFY_TENANT_RATE_PER_SECOND', 50),
    conversationRatePerSecond: positiveNumber('NOTIFY_CONVERSATION_RATE_PER_SECOND', 7),
    concurrency: positiveNumber('NOTIFY_CONCURRENCY', 128, { integer: true }),
    maxAttempts: positiveNumber('NOTIFY_MAX_ATTEMPTS', 5, { integer: true }),
    deadlineSeconds,
    maxMessageBytes: positiveNumber('NOTIFY_MAX_MESSAGE_BYTES', 80 * 1024, { integer: true }),
    messagesMaxBodyBytes: positiveNumber('MESSAGES_MAX_BODY_BYTES', 256 * 1024, { integer: true }),
    notifyMaxBodyBytes: positiveNumber('NOTIFY_MAX_BODY_BYTES', 1024 * 1024, { integer: true }),
    notificationsSliceSeconds,
    tenantLeaseSeconds: positiveNumber('NOTIFICATIONS_TENANT_LEASE_SECONDS', 15),
    allowOptOut: flag('NOTIFY_ALLOW_OPT_OUT', true),
    notificationsRetentionDays: wholeNumber('NOTIFICATIONS_RETENTION_DAYS', defaultRetentionDays),
    microsoftGraphUrl: readGraphUrl(text('MICROSOFT_GRAPH_URL', defaultGraphUrl), text('MicrosoftAppId') !== ''),
    installForUsers,
    teamsAppCatalogId,
  });
}

export const defaultGraphUrl = 'https://graph.microsoft.com';

/**
 * MICROSOFT_GRAPH_URL: an absolute http(s) URL without the API version (the client adds /v1.0).
 * Plain http only where no token travels over it: this machine, or a bot without an app id (local runs).
 */
function readGraphUrl(raw: string, sendsTokens: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingsError('MICROSOFT_GRAPH_URL', `must be an absolute URL such as ${defaultGraphUrl}, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SettingsError('MICROSOFT_GRAPH_URL', `must be an http(s) URL, got "${raw}"`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && sendsTokens && !loopback) {
    throw new SettingsError('MICROSOFT_GRAPH_URL', `must be https when MicrosoftAppId is set (the app's Graph token travels with every request), got "${raw}"`);
  }
  if (url.search !== '' || url.hash !== '') throw new SettingsError('MICROSOFT_GRAPH_URL', `must have no query or fragment, got "${raw}"`);
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  if (/\/(v1\.0|beta)$/i.test(base)) {
    throw new SettingsError('MICROSOFT_GRAPH_URL', `must not name the API version (the app adds /v1.0): use "${base.replace(/\/(v1\.0|beta)$/i, '')}", got "${raw}"`);
  }
  return base;
}

/** NOTIFY_SCHEDULE_TIME_ZONE must be a zone this runtime knows; it is stored as Intl writes it (europe/berlin is Europe/Berlin). */
function readScheduleTimeZone(raw: string): string {
  if (raw === '') return '';
  const known = canonicalTimeZone(raw);
  if (known === undefined) {
    throw new SettingsError('NOTIFY_SCHEDULE_TIME_ZONE', `must be an IANA time zone name such as Europe/Berlin or America/New_York, got "${raw}"`);
  }
  return known;
}
