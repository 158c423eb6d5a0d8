import type { CloudAdapter } from 'botbuilder';
import { createAdapter, type AdapterOptions } from './adapter';
import { NotificationBot } from './bot';
import { BroadcastEngine } from './broadcast';
import type { BroadcastRequest, BroadcastSummary } from './broadcastTypes';
import { realClock, type Clock } from './clock';
import type { ConversationStore } from './conversationStore';
import type { DeliveryLedgers } from './deliveryLedgers';
import { consoleLogger, type Logger } from './logger';
import { RunningNotifications } from './notificationRun';
import { createProactiveSender, type SendActivity } from './proactiveSender';
import { RateLimiter } from './rateLimiter';
import { loadSettings, type Settings } from './settings';
import { TableConversationStore } from './tableConversationStore';
import { TableDeliveryLedgers } from './tableDeliveryLedger';

/** Everything the functions need, built once per process. */
export interface Services {
  readonly settings: Settings;
  readonly adapter: CloudAdapter;
  readonly bot: NotificationBot;
  readonly store: ConversationStore;
  /** Sends one notification to every matching stored conversation (the delivery engine). */
  readonly broadcast: (request: BroadcastRequest) => Promise<BroadcastSummary>;
  /** Who already got a notification with a client-chosen id, and which ids are claimed by a run. */
  readonly ledgers: DeliveryLedgers;
  /** Ids this process is sending right now. */
  readonly running: RunningNotifications;
}

export interface ServiceOverrides {
  readonly logger?: Logger;
  readonly store?: ConversationStore;
  readonly ledgers?: DeliveryLedgers;
  readonly adapterOptions?: AdapterOptions;
  /** Replaces the real proactive send (tests script the channel's answers). */
  readonly send?: SendActivity;
  readonly clock?: Clock;
}

export function createServices(settings: Settings, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? consoleLogger;
  const store =
    overrides.store ?? new TableConversationStore(settings.storageConnectionString, settings.conversationsTable, logger);
  const adapter = createAdapter(settings, logger, overrides.adapterOptions);
  const clock = overrides.clock ?? realClock;
  const engine = new BroadcastEngine({
    store,
    // The sender removes botbuilder's hidden retries itself (ConnectorClientOptions.retryOptions is ignored by botbuilder).
    send: overrides.send ?? createProactiveSender(adapter, settings.microsoftAppId),
    rateLimiter: new RateLimiter(
      { tenantPerSecond: settings.tenantRatePerSecond, conversationPerSecond: settings.conversationRatePerSecond },
      clock,
    ),
    clock,
    settings,
    logger,
  });
  const broadcast = (request: BroadcastRequest): Promise<BroadcastSummary> => engine.broadcast(request);
  const ledgers = overrides.ledgers ?? new TableDeliveryLedgers(settings.storageConnectionString);
  return { settings, adapter, bot: new NotificationBot(store, logger), store, broadcast, ledgers, running: new RunningNotifications() };
}

let services: Services | undefined;

/** The composition root: settings are read on first use, not at import. */
export function getServices(): Services {
  services ??= createServices(loadSettings(process.env));
  return services;
}

/** Tests install services built from their own settings (or clear them with undefined). */
export function setServices(next: Services | undefined): void {
  services = next;
}
