// The composition root: the only file in shared/ that may import every folder below it
// (queued/ → audience/ → notifications/ → delivery/, bot/ → engagement/, ledgers/ → storage/ → settings, clock, logger).
import type { CloudAdapter } from 'botbuilder';
import { createAdapter, type AdapterOptions } from './bot/adapter';
import { NotificationBot } from './bot/bot';
import { BroadcastEngine, type BroadcastDependencies } from './delivery/broadcast';
import type { Broadcast } from './delivery/broadcastTypes';
import { realClock, type Clock } from './clock';
import { listAll, type ConversationStore } from './storage/conversationStore';
import type { TeamReader } from './audience/teamReader';
import type { PersonIndex } from './audience/personIndex';
import { PersonConversations } from './audience/personConversations';
import type { PersonalConversations } from './delivery/broadcastTypes';
import { GraphClient } from './graph/graphClient';
import { GraphDirectory } from './graph/graphDirectory';
import { AppCatalog } from './graph/appCatalog';
import { IdentityGraphTokens } from './graph/graphTokens';
import { personIndexTableFor, TablePersonIndex } from './audience/tablePersonIndex';
import type { Directory } from './graph/directory';
import { TablePersonClaims } from './queued/personClaimsTable';
import type { DeliveryLedgerAccess, DeliveryLedgerReading, DeliveryLedgerRemoval, DeliveryLedgers } from './ledgers/deliveryLedgers';
import { consoleLogger, type Logger } from './logger';
import { RunningNotifications, leaseMsFor, type NotificationDeps } from './notifications/notificationRun';
import { ReusedConnectorClients } from './bot/connectorClientReuse';
import { activityOperationsOf, createConnectorCaller, type ActivityOperations, type SendActivity } from './delivery/proactiveSender';
import { TeamsCallGate } from './audience/teamsCallGate';
import { TeamsConnector } from './audience/teamsConnector';
import { ConnectorPersonalConversations } from './audience/connectorPersonalConversations';
import { RateLimiter } from './delivery/rateLimiter';
import { SendSlots } from './delivery/sendSlots';
import { loadSettings, type Settings } from './settings';
import { TableConversationStore } from './storage/tableConversationStore';
import { TableDeliveryLedgers } from './ledgers/tableDeliveryLedgers';
import { PassTable } from './queued/passTable';
import { AudienceTable } from './queued/audienceTable';
import { CancelWatch } from './queued/cancelWatch';
import { NotificationTable } from './queued/notificationTable';
import { QueuedNotifications } from './queued/queuedNotifications';
import { TenantLeases } from './queued/tenantLease';
import { batchSizeFor, defaultTuning, ledgerGroupWindowFor, type QueuedTuning, type ReachDependencies } from './queued/workContext';
import { WorkQueues } from './queued/workQueues';
import { OptOutFilter } from './engagement/optOutFilter';
import type { OptOutStore } from './engagement/optOutStore';
import { TableOptOutStore } from './engagement/tableOptOutStore';
import type { OptOutCheck } from './delivery/broadcastTypes';
import type { AcknowledgementStore } from './engagement/acknowledgementStore';
import { acknowledgeTargetOf } from './queued/acknowledgeTargetOf';
import { TableAcknowledgementStore } from './engagement/tableAcknowledgementStore';
import type { ReadReceiptStore } from './engagement/readReceiptStore';
import { TableReadReceiptStore } from './engagement/tableReadReceiptStore';
import { adaptiveCardType } from './engagement/acknowledgementCard';

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
  /** Queued notifications (`/api/notifications` and the queue-triggered functions that do them). */
  readonly queued: QueuedNotifications;
  /** Who sent the bot "stop"; undefined when opt-out is turned off (NOTIFY_ALLOW_OPT_OUT=false): then nobody is skipped. */
  readonly optOuts: OptOutStore | undefined;
  /** Teams' rosters, channel lists and new personal chats, within the same tenant budget as the sends. */
  readonly teams: TeamsConnector;
  /** Who pressed a notification's acknowledge button. */
  readonly acknowledgements: AcknowledgementStore;
  /** Deliveries to personal chats and the read receipts that cover them. */
  readonly readReceipts: ReadReceiptStore;
}

export interface ServiceOverrides {
  readonly logger?: Logger;
  readonly store?: ConversationStore;
  readonly ledgers?: DeliveryLedgers;
  readonly adapterOptions?: AdapterOptions;
  /** Replaces the real proactive send (tests script the channel's answers). */
  readonly send?: SendActivity;
  /** Replaces the real updates and deletes of delivered activities (edits and recalls). */
  readonly activities?: Pick<ActivityOperations, 'update' | 'remove'>;
  readonly clock?: Clock;
  /** Queued notifications' timing (tests shorten slices and batches). */
  readonly queuedTuning?: Partial<QueuedTuning>;
  /** Used when opt-out is allowed (tests pass a MemoryOptOutStore). */
  readonly optOuts?: OptOutStore;
  readonly acknowledgements?: AcknowledgementStore;
  readonly readReceipts?: ReadReceiptStore;
  /** The Teams connector calls and the directory audience sources need (tests pass doubles). */
  readonly reach?: ReachOverrides;
}

/** Tests replace the directory (and the Teams calls) that audience sources are expanded with. */
export interface ReachOverrides {
  readonly teams?: TeamReader;
  readonly directory?: Directory;
  readonly personIndex?: PersonIndex;
}

export function createServices(settings: Settings, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? consoleLogger;
  const store =
    overrides.store ?? new TableConversationStore(settings.conversationsStorage, settings.conversationsTable, logger);
  const adapter = createAdapter(settings, logger, overrides.adapterOptions);
  const clock = overrides.clock ?? realClock;
  // Sends and the other connector calls remove botbuilder's hidden retries themselves (ConnectorClientOptions.retryOptions
  // is ignored by botbuilder). Their own adapter keeps one connector client per serviceUrl (the bot's adapter builds one
  // per turn, as botbuilder does), and they share one connection pool.
  const connectorCall = createConnectorCaller(proactiveAdapter(settings, logger, overrides.adapterOptions), settings.microsoftAppId, {
    maxSocketsPerOrigin: settings.concurrency,
  });
  const operations = activityOperationsOf(connectorCall);
  // One limiter for every run of the process, /api/notify and queued work alike, and for rosters and new chats.
  const rateLimiter = new RateLimiter({ tenantPerSecond: settings.tenantRatePerSecond, conversationPerSecond: settings.conversationRatePerSecond }, clock);
  const teams = new TeamsConnector({
    call: connectorCall,
    gate: new TeamsCallGate({ rateLimiter, clock, maxAttempts: settings.maxAttempts }),
    botAppId: settings.microsoftAppId,
  });
  const engineDependencies = {
    store,
    send: overrides.send ?? operations.send,
    rateLimiter,
    // NOTIFY_CONCURRENCY sends in flight in the whole process, as many as the agent keeps sockets.
    sendSlots: new SendSlots(settings.concurrency),
    clock,
    settings,
    logger,
    personalConversations: new ConnectorPersonalConversations(teams, store, logger),
  };
  const engine = new BroadcastEngine(engineDependencies);
  const broadcast: Broadcast = (request) => engine.broadcast(request);
  const ledgers = overrides.ledgers ?? new TableDeliveryLedgers(settings.conversationsStorage);
  const optOuts = settings.allowOptOut ? (overrides.optOuts ?? new TableOptOutStore(settings.conversationsStorage)) : undefined;
  const reach = reachDependencies(settings, { store, teams, connector: engineDependencies.personalConversations, clock, overrides: overrides.reach ?? {} });
  const activities = { send: engineDependencies.send, ...(overrides.activities ?? { update: operations.update, remove: operations.remove }) };
  const acknowledgements = overrides.acknowledgements ?? new TableAcknowledgementStore(settings.conversationsStorage);
  const readReceipts = overrides.readReceipts ?? new TableReadReceiptStore(settings.conversationsStorage);
  const queued = createQueuedNotifications(settings, { ...engineDependencies, ledgers, overrides, optOuts, reach, activities, acknowledgements, readReceipts });
  const bot = new NotificationBot(store, logger, {
    ...(optOuts === undefined ? {} : { optOuts }),
    acknowledgements,
    readReceipts,
    acknowledgeTarget: async (id) => acknowledgeTargetOf(await queued.deps.notifications.get(id)),
  });
  return { settings, adapter, bot, store, broadcast, ledgers, running: new RunningNotifications(), queued, optOuts, teams, acknowledgements, readReceipts };
}

/** A fresh view of the opt-outs for each run (each tenant read once per run), or nothing when opt-out is off. */
function optOutChecks(optOuts: OptOutStore | undefined): { readonly optOuts?: () => OptOutCheck } {
  return optOuts === undefined ? {} : { optOuts: () => new OptOutFilter(optOuts) };
}

/**
 * Queued notifications: their tables in the references' account (beside the delivery ledger), their
 * queues in AzureWebJobsStorage (where the queue triggers listen).
 */
function createQueuedNotifications(
  settings: Settings,
  parts: BroadcastDependencies & {
    readonly ledgers: DeliveryLedgers & Partial<DeliveryLedgerAccess & DeliveryLedgerReading & DeliveryLedgerRemoval>;
    readonly overrides: ServiceOverrides;
    readonly optOuts: OptOutStore | undefined;
    readonly reach: ReachDependencies;
    readonly activities: ActivityOperations;
    readonly acknowledgements: AcknowledgementStore;
    readonly readReceipts: ReadReceiptStore;
  },
): QueuedNotifications {
  const { ledgers, overrides, optOuts, reach, activities, acknowledgements, readReceipts, ...engineDependencies } = parts;
  const tuning: QueuedTuning = {
    ...defaultTuning,
    sliceMs: settings.notificationsSliceSeconds * 1_000,
    batchSize: batchSizeFor(settings.tenantRatePerSecond, settings.notificationsSliceSeconds),
    ledgerGroupMs: ledgerGroupWindowFor(settings.tenantRatePerSecond),
    ...overrides.queuedTuning,
  };
  const notifications = new NotificationTable(settings.conversationsStorage);
  const access =
    ledgers.open === undefined || ledgers.openMarks === undefined || ledgers.removeLedgers === undefined || ledgers.entries === undefined
      ? new TableDeliveryLedgers(settings.conversationsStorage)
      : (ledgers as DeliveryLedgerAccess & DeliveryLedgerReading & DeliveryLedgerRemoval);
  return new QueuedNotifications({
    notifications,
    audience: new AudienceTable(settings.conversationsStorage),
    queues: new WorkQueues(settings.webJobsStorage),
    leases: new TenantLeases(notifications.table, { leaseMs: settings.tenantLeaseSeconds * 1_000 }),
    ledgers: access,
    store: engineDependencies.store,
    // Each batch's failures are all reported: they become the notification's failure rows.
    engineFor: (recipients, send) => {
      // People's chats are found through the person index, opened, or installed for (reach's hook).
      const engine = new BroadcastEngine({
        ...engineDependencies,
        store: recipients,
        personalConversations: reach.conversations,
        ...(send === undefined ? {} : { send }),
        tuning: { maxReportedFailures: Number.POSITIVE_INFINITY },
      });
      return (request) => engine.broadcast(request);
    },
    passes: new PassTable(notifications.table),
    activities,
    cancelWatch: new CancelWatch((id) => notifications.stateOf(id)),
    ...optOutChecks(optOuts),
    reach,
    acknowledgements,
    readReceipts,
    logger: engineDependencies.logger,
    tuning,
  });
}

/**
 * Audience sources: the Teams connector's rosters and channels, the directory over Graph, the person
 * claims and index in the references' account, and the engine's hook to people's chats.
 */
function reachDependencies(
  settings: Settings,
  parts: { readonly store: ConversationStore; readonly teams: TeamReader; readonly connector: PersonalConversations; readonly clock: Clock; readonly overrides: ReachOverrides },
): ReachDependencies {
  const { store, clock, overrides } = parts;
  const serviceUrls = new Map<string, Promise<string | undefined>>();
  const serviceUrlOf = (tenantId: string): Promise<string | undefined> => {
    let known = serviceUrls.get(tenantId);
    if (known === undefined) {
      known = firstServiceUrl(store, tenantId);
      serviceUrls.set(tenantId, known);
    }
    return known;
  };
  const graph = new GraphClient({ baseUrl: settings.microsoftGraphUrl, tokens: new IdentityGraphTokens(settings), clock });
  const directory = overrides.directory ?? new GraphDirectory(graph, new AppCatalog(graph, { teamsAppCatalogId: settings.teamsAppCatalogId, manifestId: settings.microsoftAppId }), clock);
  const teams = overrides.teams ?? parts.teams;
  return {
    readers: { store, teams, directory, serviceUrlOf },
    claims: new TablePersonClaims(settings.conversationsStorage),
    conversations: new PersonConversations({
      index: overrides.personIndex ?? new TablePersonIndex(settings.conversationsStorage, personIndexTableFor(settings.conversationsTable)),
      connector: parts.connector,
      directory,
      store,
      installForUsers: settings.installForUsers,
      botId: settings.microsoftAppId,
    }),
    botId: settings.microsoftAppId,
  };
}

/** The service URL of one stored conversation of the tenant (people found through Graph are reached there). */
async function firstServiceUrl(store: ConversationStore, tenantId: string): Promise<string | undefined> {
  for await (const conversation of listAll(store, { tenantIds: [tenantId] }, 1)) return conversation.serviceUrl;
  return undefined;
}

function proactiveAdapter(settings: Settings, logger: Logger, options: AdapterOptions = {}): CloudAdapter {
  return createAdapter(settings, logger, {
    ...options,
    wrapAuthentication: (authentication) => new ReusedConnectorClients(options.wrapAuthentication?.(authentication) ?? authentication),
  });
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
    ...optOutChecks(services.optOuts),
  };
}
