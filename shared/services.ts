import type { CloudAdapter } from 'botbuilder';
import { createAdapter, type AdapterOptions } from './adapter';
import { NotificationBot } from './bot';
import type { ConversationStore } from './conversationStore';
import { consoleLogger, type Logger } from './logger';
import { loadSettings, type Settings } from './settings';
import { TableConversationStore } from './tableConversationStore';

/** Everything the functions need, built once per process. */
export interface Services {
  readonly settings: Settings;
  readonly adapter: CloudAdapter;
  readonly bot: NotificationBot;
  readonly store: ConversationStore;
}

export interface ServiceOverrides {
  readonly logger?: Logger;
  readonly store?: ConversationStore;
  readonly adapterOptions?: AdapterOptions;
}

export function createServices(settings: Settings, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? consoleLogger;
  const store =
    overrides.store ?? new TableConversationStore(settings.storageConnectionString, settings.conversationsTable, logger);
  const adapter = createAdapter(settings, logger, overrides.adapterOptions);
  return { settings, adapter, bot: new NotificationBot(store, logger), store };
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
