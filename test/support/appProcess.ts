import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, startAzurite, type RunningAzurite } from '../../scripts/azurite';

/**
 * Starts the function app as a child process through the project's local host
 * (scripts/localHost/host.ts), the way end-to-end tests need it:
 *
 *   const storage = await startTestStorage();
 *   const app = await startApp({ settings: appSettings(storage.connectionString) });
 *   const response = await fetch(`${app.baseUrl}/api/messages`, { method: 'POST', ... });
 *   await app.stop(); await storage.dispose();
 *
 * Every process started here is killed as a whole process group by `stop()`,
 * and, as a last resort, when the test process exits.
 */

/** The repository root (this file is compiled to dist/test/support/). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface StartAppOptions {
  /** App settings, passed as environment variables on top of this process's environment. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Folder with package.json (`main`) and host.json; default the repository root. */
  readonly appRoot?: string;
  /** Default: a free port. */
  readonly port?: number;
  /** How long to wait for the host to answer; default 30 s. */
  readonly startTimeoutMs?: number;
}

export interface AppProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly baseUrl: string;
  readonly pid: number;
  /** Everything the host printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves when the output contains `pattern`; rejects after `timeoutMs` (default 15 s) or if the host exits. */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM to the process group, SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL to the process group at once, as a crash would (nothing is cleaned up); resolves once it exited. */
  kill(): Promise<void>;
}

const startedGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of startedGroups) killGroup(pid, 'SIGKILL');
});

export async function startApp(options: StartAppOptions = {}): Promise<AppProcess> {
  const appRoot = options.appRoot ?? repoRoot;
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.settings };
  // The host is not a test file; node:test's marker would only confuse it.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'dist', 'scripts', 'localHost', 'host.js'), '--app-root', appRoot, '--port', String(port)],
    { cwd: appRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the local host');
  startedGroups.add(pid);

  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const baseUrl = `http://127.0.0.1:${port}`;
  const app: AppProcess = {
    port,
    baseUrl,
    pid,
    output: () => output,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      waitUntil(() => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output)), child, timeoutMs, () =>
        `the host did not print ${String(pattern)} within ${timeoutMs} ms; output:\n${output}`,
      ),
    stop: () => stopGroup(child, pid),
    kill: () => stopGroup(child, pid, 0),
  };
  try {
    await waitUntilAnswering(baseUrl, child, options.startTimeoutMs ?? 30_000, () => output);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}

/** Settings for the real app against a test Azurite: unauthenticated bot, references in `conversations`. */
export function appSettings(storageConnectionString: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: storageConnectionString,
    MicrosoftAppId: '',
    MicrosoftAppPassword: '',
    MicrosoftAppType: 'MultiTenant',
    MicrosoftAppTenantId: '',
    CONVERSATIONS_TABLE: 'conversations',
    NOTIFY_SCHEDULE: '',
    'AzureWebJobs.notifyTimer.Disabled': 'true',
    ...extra,
  };
}

export interface TestStorage {
  readonly tablePort: number;
  /** The queue port, when started with `{ queues: true }`. */
  readonly queuePort: number | undefined;
  /** Table (and queue) connection string; stays valid across `restart()`. */
  readonly connectionString: string;
  /** The Azurite data folder: a restarted Azurite on it sees the same tables. */
  readonly location: string;
  /** Stops Azurite and starts it again on the same port and data folder. */
  restart(): Promise<void>;
  /** Stops Azurite and deletes its data folder. */
  dispose(): Promise<void>;
}

/**
 * Azurite (table service, and the queue service with `{ queues: true }`, on
 * free ports) with its data in a fresh temporary folder.
 */
export async function startTestStorage(options: { readonly queues?: boolean } = {}): Promise<TestStorage> {
  const location = await mkdtemp(path.join(tmpdir(), 'azurite-e2e-'));
  let azurite: RunningAzurite | undefined;
  try {
    azurite = await startAzurite({ location, queue: options.queues });
  } catch (error) {
    await rm(location, { recursive: true, force: true });
    throw error;
  }
  const { tablePort, queuePort, connectionString } = azurite;
  return {
    tablePort,
    queuePort,
    connectionString,
    location,
    restart: async () => {
      await azurite?.stop();
      azurite = undefined;
      azurite = await startAzurite({ location, tablePort, queue: queuePort !== undefined, queuePort });
    },
    dispose: async () => {
      await azurite?.stop();
      azurite = undefined;
      await rm(location, { recursive: true, force: true });
    },
  };
}

async function waitUntilAnswering(baseUrl: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`the local host exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}/admin/host/status`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  throw new Error(`the local host did not answer within ${timeoutMs} ms:\n${output()}`);
}

async function waitUntil(condition: () => boolean, child: ChildProcess, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline || hasExited(child)) throw new Error(describe());
    await delay(25);
  }
}

async function stopGroup(child: ChildProcess, pid: number, graceMs = 5_000): Promise<void> {
  if (!startedGroups.has(pid)) return;
  if (!hasExited(child)) {
    const exited = once(child, 'exit');
    killGroup(pid, graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // Anything the host started in its group goes too.
  killGroup(pid, 'SIGKILL');
  startedGroups.delete(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
