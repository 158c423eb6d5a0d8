import assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from './appProcess';

/**
 * For the end-to-end tests of queued notifications (test/e2e/queuedNotifications*.test.ts):
 * the app in the local host with short queue windows, Azurite, the fake Bot
 * Connector, and the API calls and waits the tests share.
 */

/** Short windows, so a crash or a retry costs seconds here (Azure: 10 min of visibility, 15 s of lease). */
export const fastQueues = {
  LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
  NOTIFICATIONS_SLICE_SECONDS: '3',
  NOTIFICATIONS_TENANT_LEASE_SECONDS: '3',
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
  AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '3',
};

export interface Status {
  readonly id: string;
  readonly state: string;
  readonly matched: number | null;
  readonly sent: number;
  readonly failed: number;
  readonly alreadySent: number;
  readonly pending: number;
  readonly error?: string;
  readonly failedWork: readonly { readonly tenantId: string; readonly error: string; readonly attempts: number }[];
}

export interface QueuedHosts {
  /** Azurite with tables and queues. */
  storage(): Promise<TestStorage>;
  /** The fake Bot Connector, answering after 5 ms unless told otherwise. */
  connector(options?: FakeConnectorOptions): Promise<FakeConnector>;
  /** The app in the local host on that storage, with short queue windows. */
  app(testStorage: TestStorage, extra?: Record<string, string>): Promise<AppProcess>;
}

/** What each test of the calling file starts, stopped after it (registers an afterEach hook). */
export function useQueuedHosts(): QueuedHosts {
  const started: { apps: AppProcess[]; connectors: FakeConnector[]; storages: TestStorage[] } = { apps: [], connectors: [], storages: [] };
  afterEach(async () => {
    await Promise.all(started.apps.splice(0).map((app) => app.stop()));
    await Promise.all(started.connectors.splice(0).map((connector) => connector.stop()));
    await Promise.all(started.storages.splice(0).map((storage) => storage.dispose()));
  });
  return {
    storage: async () => {
      const created = await startTestStorage({ queues: true });
      started.storages.push(created);
      return created;
    },
    connector: async (options = {}) => {
      const created = await startFakeConnector({ latencyMs: 5, ...options });
      started.connectors.push(created);
      return created;
    },
    app: async (testStorage, extra = {}) => {
      const created = await startApp({ settings: appSettings(testStorage.connectionString, { ...fastQueues, ...extra }) });
      started.apps.push(created);
      return created;
    },
  };
}

export function store(testStorage: TestStorage): TableConversationStore {
  return new TableConversationStore(loadSettings({ AzureWebJobsStorage: testStorage.connectionString }).conversationsStorage, 'conversations');
}

/** Teams counts each tenant's and each conversation's requests over a sliding second, at arrival. */
export const teamsLimits: FakeConnectorOptions = { throttle: { perTenantPerSecond: 50, perConversationPerSecond: 7 } };

export async function post(target: AppProcess, body: unknown): Promise<{ response: Response; ms: number }> {
  const startedAt = performance.now();
  const response = await fetch(`${target.baseUrl}/api/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { response, ms: performance.now() - startedAt };
}

export async function status(target: AppProcess, id: string): Promise<Status> {
  const response = await fetch(`${target.baseUrl}/api/notifications/${id}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Status;
}

export async function waitFor(target: () => AppProcess, id: string, states: readonly string[], timeoutMs = 120_000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await status(target(), id);
    if (states.includes(current.state)) return current;
    if (Date.now() > deadline) throw new Error(`${id} stayed ${current.state}: ${JSON.stringify(current)}\n${target().output().slice(-3_000)}`);
    await delay(200);
  }
}

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(25);
  }
}

export const tenants = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `tenant-${from + i}`);

