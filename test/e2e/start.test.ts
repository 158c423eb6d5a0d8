import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { freePort, isPortTaken } from '../../scripts/azurite';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { deliverQueueName, planQueueName } from '../../shared/queued/workQueues';
import { emulatorConversationUpdate } from '../support/activities';
import { repoRoot, startTestStorage, type TestStorage } from '../support/appProcess';

/**
 * `npm start` as a developer runs it, minus the parts that would touch the
 * machine: storage is a test Azurite (so start.ts launches none on the fixed
 * ports), the settings file lives in a temporary folder, the port is free.
 */

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Signals the whole process group, as a terminal's Ctrl-C does. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function storedConversationIds(connectionString: string): Promise<unknown[]> {
  const table = TableClient.fromConnectionString(connectionString, 'conversations', { allowInsecureConnection: true });
  const ids: unknown[] = [];
  for await (const row of table.listEntities<Record<string, unknown>>()) ids.push(row.conversationId);
  return ids;
}

describe('npm start (scripts/start.ts) without Core Tools, with storage in a test Azurite', () => {
  const conversationId = 'start-test-conversation';
  let storage: TestStorage;
  let connector: FakeConnector;
  let folder: string;
  let settingsPath: string;
  let port: number;
  let start: ChildProcess | undefined;
  let output = '';

  before(async () => {
    storage = await startTestStorage({ queues: true });
    connector = await startFakeConnector();
    folder = await mkdtemp(path.join(tmpdir(), 'npm-start-'));
    settingsPath = path.join(folder, 'local.settings.json');
    port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AzureWebJobsStorage: storage.connectionString,
      FUNCTIONS_HTTP_PORT: String(port),
      // Without func on the PATH, start.ts runs the project's local host.
      PATH: '',
    };
    delete env.NODE_TEST_CONTEXT;
    start = spawn(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'start.js'), '--settings', settingsPath], {
      cwd: folder,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntilServing(start, port, () => output);
  });

  after(async () => {
    if (start !== undefined && !hasExited(start)) {
      const exited = once(start, 'exit');
      signalGroup(start, 'SIGKILL');
      await exited;
    }
    await connector?.stop();
    await storage?.dispose();
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });

  test('a missing settings file is created from the sample where --settings points', async () => {
    const sample = await readFile(path.join(repoRoot, 'local.settings.sample.json'), 'utf8');
    assert.equal(await readFile(settingsPath, 'utf8'), sample);
    assert.match(output, /local\.settings\.json was missing: created it/);
  });

  test('POST /api/messages with a conversationUpdate gets 200, the user is greeted and the reference is stored in the configured storage', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(emulatorConversationUpdate(connector.serviceUrl, conversationId)),
    });
    assert.equal(response.status, 200);
    assert.equal(connector.deliveredCount(conversationId), 1);
    assert.deepEqual(await storedConversationIds(storage.connectionString), [conversationId]);
  });

  test('the queues of the queue-triggered functions and their poison queues are created', async () => {
    const queues = QueueServiceClient.fromConnectionString(storage.connectionString);
    const expected = [planQueueName, `${planQueueName}-poison`, deliverQueueName, `${deliverQueueName}-poison`].sort();
    const deadline = Date.now() + 30_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = [];
      for await (const queue of queues.listQueues()) names.push(queue.name);
      if (expected.every((name) => names.includes(name))) break;
      await delay(100);
    }
    assert.deepEqual(names.filter((name) => expected.includes(name)).sort(), expected);
  });

  test('Ctrl-C stops it: the process exits with 0 and the port is closed', async () => {
    assert.ok(start !== undefined);
    const exited = once(start, 'exit');
    signalGroup(start, 'SIGINT');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, output);
    assert.equal(await isPortTaken(port), false);
  });
});

async function waitUntilServing(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`start.js exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/admin/host/status`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  throw new Error(`start.js did not serve on port ${port} within 60 s:\n${output()}`);
}
