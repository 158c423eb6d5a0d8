// The composition root: the only file in shared/ that may import every folder below it
// (notifications/ → delivery/, bot/ → ledgers/ → storage/ → settings, clock, logger).
import type { CloudAdapter } from 'botbuilder';
import { createAdapter, type AdapterOptions } from './bot/adapter';
import { NotificationBot } from './bot/bot';
import { BroadcastEngine } from './delivery/broadcast';
import type { Broadcast } from './delivery/broadcastTypes';
import { realClock, type Clock } from './clock';
import type { ConversationStore } from './storage/conversationStore';
import type { DeliveryLedgers } from './ledgers/deliveryLedgers';
import { consoleLogger, type Logger } from './logger';
import { RunningNotifications, leaseMsFor, type NotificationDeps } from './notifications/notificationRun';
import { createProactiveSender, type SendActivity } from './delivery/proactiveSender';
import { RateLimiter } from './delivery/rateLimiter';
import { loadSettings, type Settings } from './settings';
import { TableConversationStore } from './storage/tableConversationStore';
import { TableDeliveryLedgers } from './ledgers/tableDeliveryLedgers';

/** Everything the functions need, built once per process. */
export interface Services {
  readonly settings: Settings;
  readonly adapter: CloudAdapter;
  readonly bot: NotificationBot;
  readonly store: ConversationStore;
  /** Sends one notification to every matching stored conversation (the delivery engine). */
  readonly broadcast: Broadcast;
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
    overrides.store ?? new TableConversationStore(settings.conversationsStorage, settings.conversationsTable, logger);
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
  const broadcast: Broadcast = (request) => engine.broadcast(request);
  const ledgers = overrides.ledgers ?? new TableDeliveryLedgers(settings.conversationsStorage);
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

/** The notify functions' dependencies, from the composition root. */
export function notificationDeps(services: Services): NotificationDeps {
  return {
    broadcast: services.broadcast,
    store: services.store,
    ledgers: services.ledgers,
    leaseMs: leaseMsFor(services.settings),
    running: services.running,
  };
}
