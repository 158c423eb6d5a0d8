import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { isPortTaken, startAzurite, type RunningAzurite } from './azurite';
import { abortOnSignals, defaultPort, portFromEnv, serveUntilStopped } from './localHost/host';
import { consoleHostLog } from './localHost/log';
import { asObject, readJsonObject } from './localHost/app';

/**
 * `npm start`: local.settings.json → environment, Azurite when the app uses
 * development storage, then `func start` if Core Tools are installed, else the
 * project's local host. Ctrl-C / SIGTERM stops everything started here.
 *
 * Usage: start.js [--settings <local.settings.json>] (default: the one in the
 * app root; created from local.settings.sample.json when missing).
 */

const appRoot = path.resolve(__dirname, '..', '..');
const azuriteTablePort = 10002;
const azuriteQueuePort = 10001;

interface LocalSettings {
  readonly values: Readonly<Record<string, string>>;
  readonly localHttpPort: number | undefined;
}

function log(message: string): void {
  console.log(`[start] ${message}`);
}

function parseArguments(argv: readonly string[]): { settingsPath: string } {
  const [flag, value, ...rest] = argv;
  if (flag === undefined) return { settingsPath: path.join(appRoot, 'local.settings.json') };
  if (flag === '--settings' && value !== undefined && rest.length === 0) return { settingsPath: path.resolve(value) };
  throw new Error(`unexpected arguments "${argv.join(' ')}" (usage: start.js [--settings <local.settings.json>])`);
}

function ensureLocalSettings(settingsPath: string): void {
  if (existsSync(settingsPath)) return;
  copyFileSync(path.join(appRoot, 'local.settings.sample.json'), settingsPath);
  log(`${settingsPath} was missing: created it from local.settings.sample.json (edit it for your bot).`);
}

function readLocalSettings(settingsPath: string): LocalSettings {
  const settings = readJsonObject(settingsPath);
  if (settings.IsEncrypted === true) {
    throw new Error(`${settingsPath} is encrypted (IsEncrypted: true); only func can read it: decrypt it with "func settings decrypt"`);
  }
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(asObject(settings.Values) ?? {})) {
    if (value !== null && value !== undefined) values[name] = String(value);
  }
  const port = asObject(settings.Host)?.LocalHttpPort;
  return { values, localHttpPort: typeof port === 'number' ? port : undefined };
}

/** Like func: a variable already in the environment wins over local.settings.json. */
function applySettings(values: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
}

function usesDevelopmentStorage(): boolean {
  return /^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(process.env.AzureWebJobsStorage ?? '');
}

async function isAzuriteTableService(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/devstoreaccount1/Tables`, { signal: AbortSignal.timeout(2_000) });
    return /azurite/i.test(response.headers.get('server') ?? '');
  } catch {
    return false;
  }
}

/** Starts Azurite on the default ports with data in .azurite/, or reuses one already running. */
async function ensureAzurite(): Promise<RunningAzurite | undefined> {
  if (await isPortTaken(azuriteTablePort)) {
    if (await isAzuriteTableService(azuriteTablePort)) {
      log(`Azurite is already running on port ${azuriteTablePort}: using it (it is not stopped on exit).`);
      if (!(await isPortTaken(azuriteQueuePort))) {
        log(`Nothing listens on port ${azuriteQueuePort} (Azurite's queue service): queue-triggered functions will wait for it.`);
      }
      return undefined;
    }
    throw new Error(`port ${azuriteTablePort} (Azurite's table port) is taken by something that is not Azurite`);
  }
  const location = path.join(appRoot, '.azurite');
  mkdirSync(location, { recursive: true });
  const azurite = await startAzurite({ location, tablePort: azuriteTablePort, allServices: true, detached: true });
  log(`Azurite started (blob 10000, queue ${azuriteQueuePort}, table ${azuriteTablePort}), data in ${location}`);
  return azurite;
}

function findOnPath(command: string): string | undefined {
  const extensions = process.platform === 'win32' ? ['.cmd', '.exe', ''] : [''];
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const extension of extensions) {
      const candidate = path.join(folder, command + extension);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

async function runFuncStart(func: string, port: number, stop: AbortSignal): Promise<number> {
  log(`Core Tools found (${func}): running func start --port ${port}`);
  const child = spawn(func, ['start', '--port', String(port)], { cwd: appRoot, stdio: 'inherit', env: process.env });
  const forward = (): void => void child.kill(stop.reason === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  stop.addEventListener('abort', forward, { once: true });
  try {
    // Rejects when func cannot be spawned.
    const [code] = (await once(child, 'exit')) as [number | null];
    return code ?? 0;
  } finally {
    stop.removeEventListener('abort', forward);
  }
}

/**
 * `npm start` runs us under `sh -c "npm run build && node ..."`; a SIGTERM to
 * npm ends the shell but not us, so notice being orphaned and stop as if signalled.
 */
function stopWhenOrphaned(stop: AbortSignal): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    if (!stop.aborted) process.kill(process.pid, 'SIGTERM');
  }, 500);
  timer.unref();
}

/** Resolves with the exit code. Whatever ends it (a signal, even during start-up, or an error), Azurite started here is stopped. */
async function main(): Promise<number> {
  const hostLog = consoleHostLog();
  const stop = abortOnSignals(hostLog);
  stopWhenOrphaned(stop);
  const { settingsPath } = parseArguments(process.argv.slice(2));
  ensureLocalSettings(settingsPath);
  const settings = readLocalSettings(settingsPath);
  applySettings(settings.values);
  const hasPortOverride = Boolean(process.env.FUNCTIONS_HTTP_PORT?.trim() || process.env.PORT?.trim());
  const port = hasPortOverride ? portFromEnv(process.env) : (settings.localHttpPort ?? defaultPort);

  let azurite: RunningAzurite | undefined;
  try {
    if (usesDevelopmentStorage()) azurite = await ensureAzurite();
    if (stop.aborted) {
      log(`${String(stop.reason)} during start-up: stopping`);
      return 0;
    }
    const func = findOnPath('func');
    if (func !== undefined) return await runFuncStart(func, port, stop);
    log('Core Tools (func) not found: running the project local host (scripts/localHost/)');
    return await serveUntilStopped({ appRoot, port, log: hostLog, createQueues: true }, stop);
  } finally {
    if (azurite !== undefined) {
      await azurite.stop();
      log('Azurite stopped');
    }
  }
}

main().then(
  (exitCode) => process.exit(exitCode),
  (error: unknown) => {
    console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
