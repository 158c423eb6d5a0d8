import { after, afterEach, before } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';
import { startQueueWorkers } from '../../scripts/queueWorkers';
import type { OptOutStore } from '../../shared/engagement/optOutStore';
import type { NotificationStatusWithFailures } from '../../shared/queued/notificationStatus';
import type { QueuedNotifications } from '../../shared/queued/queuedNotifications';
import type { QueuedTuning } from '../../shared/queued/workContext';
import { deliverQueueName, planQueueName } from '../../shared/queued/workQueues';
import { createServices, type Services } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { recordingLogger } from './recordingLogger';

/**
 * What the integration tests of queued notifications share: one Azurite (tables
 * and queues) for the file, fake Bot Connectors and queue pumps that each test
 * starts and that are stopped after it, and services on a fresh conversation
 * table each time. The queue triggers are played by a pump in the test's
 * process (the e2e tests run them in the local host).
 */
export interface QueuedTestBed {
  connectionString(): string;
  fakeConnector(options?: FakeConnectorOptions): Promise<FakeConnector>;
  services(options?: { settings?: Record<string, string>; tuning?: Partial<QueuedTuning>; optOuts?: OptOutStore }): Services;
  /** Runs the queue triggers' work for these services until the test ends. */
  pump(app: Services): void;
}

export function useQueuedTestBed(tablePrefix: string, connectorLatencyMs = 2): QueuedTestBed {
  let storage: RunningAzurite | undefined;
  const connectors: FakeConnector[] = [];
  const pumps: { stop(): Promise<void> }[] = [];
  let tables = 0;
  const connectionString = (): string => {
    if (storage === undefined) throw new Error('Azurite did not start');
    return storage.connectionString;
  };

  before(async () => {
    storage = await startAzurite({ queue: true });
  });
  afterEach(async () => {
    await Promise.all(pumps.splice(0).map((pump) => pump.stop()));
    await Promise.all(connectors.splice(0).map((connector) => connector.stop()));
    // What a test leaves on the queues (work it planned and ran by hand, work put back for later) is not the
    // next test's: its recipients' connector is gone, and its tenants' leases would hold up the next one's.
    await Promise.all([planQueueName, deliverQueueName].map((name) => new QueueClient(connectionString(), name).clearMessages().catch(ignoreMissingQueue)));
  });
  after(async () => {
    await storage?.stop();
  });

  return {
    connectionString,
    async fakeConnector(options = {}) {
      const connector = await startFakeConnector({ latencyMs: connectorLatencyMs, ...options });
      connectors.push(connector);
      return connector;
    },
    services({ settings = {}, tuning = {}, optOuts } = {}) {
      tables += 1;
      const loaded = loadSettings({
        AzureWebJobsStorage: connectionString(),
        CONVERSATIONS_TABLE: `${tablePrefix}${tables}`,
        NOTIFY_TENANT_RATE_PER_SECOND: '500',
        NOTIFY_CONVERSATION_RATE_PER_SECOND: '100',
        ...settings,
      });
      // Short slices, small batches and pages: every path of checkpoint and continuation is taken.
      return createServices(loaded, {
        logger: recordingLogger(),
        queuedTuning: { sliceMs: 1_000, batchSize: 40, planPageSize: 50, catchUpDelaySeconds: 1, ...tuning },
        ...(optOuts === undefined ? {} : { optOuts }),
      });
    },
    pump(app) {
      pumps.push(startQueueWorkers(connectionString(), app.queued, { visibilitySeconds: 3 }));
    },
  };
}

function ignoreMissingQueue(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error;
}

/** Reads the status every 100 ms until `done` holds for it; throws with the last status after `timeoutMs`. */
export async function waitForStatus(
  queued: QueuedNotifications,
  id: string,
  done: (status: NotificationStatusWithFailures) => boolean,
  timeoutMs = 60_000,
): Promise<NotificationStatusWithFailures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await queued.status(id);
    if (status !== undefined && done(status)) return status;
    if (Date.now() > deadline) throw new Error(`notification ${id} did not get there: ${JSON.stringify(status)}`);
    await delay(100);
  }
}

export function waitForState(queued: QueuedNotifications, id: string, states: readonly string[], timeoutMs = 60_000): Promise<NotificationStatusWithFailures> {
  return waitForStatus(queued, id, (status) => states.includes(status.state), timeoutMs);
}
