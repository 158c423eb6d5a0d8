import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from './azurite';
import { defaultPort, portFromEnv, runLocalHostUntilStopped } from './localHost';

/**
 * `npm start`: local.settings.json → environment, Azurite when the app uses
 * development storage, then `func start` if Core Tools are installed, else the
 * project's local host. Ctrl-C / SIGTERM stops everything started here.
 */

const appRoot = path.resolve(__dirname, '..', '..');
const azuriteTablePort = 10002;

interface LocalSettings {
  readonly values: Readonly<Record<string, string>>;
  readonly localHttpPort: number | undefined;
}

function log(message: string): void {
  console.log(`[start] ${message}`);
}

function ensureLocalSettings(): string {
  const settingsPath = path.join(appRoot, 'local.settings.json');
  if (!existsSync(settingsPath)) {
    copyFileSync(path.join(appRoot, 'local.settings.sample.json'), settingsPath);
    log('local.settings.json was missing: created it from local.settings.sample.json (edit it for your bot).');
  }
  return settingsPath;
}

function readLocalSettings(settingsPath: string): LocalSettings {
  const parsed: unknown = JSON.parse(readFileSync(settingsPath, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${settingsPath} is not a JSON object`);
  if ('IsEncrypted' in parsed && parsed.IsEncrypted === true) {
    throw new Error(`${settingsPath} is encrypted (IsEncrypted: true); only func can read it: decrypt it with "func settings decrypt"`);
  }
  const values: Record<string, string> = {};
  const rawValues: unknown = 'Values' in parsed ? parsed.Values : undefined;
  if (typeof rawValues === 'object' && rawValues !== null) {
    for (const [name, value] of Object.entries(rawValues)) {
      if (value !== null && value !== undefined) values[name] = String(value);
    }
  }
  const host: unknown = 'Host' in parsed ? parsed.Host : undefined;
  const port: unknown = typeof host === 'object' && host !== null && 'LocalHttpPort' in host ? host.LocalHttpPort : undefined;
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

async function isPortTaken(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
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
      return undefined;
    }
    throw new Error(`port ${azuriteTablePort} (Azurite's table port) is taken by something that is not Azurite`);
  }
  const location = path.join(appRoot, '.azurite');
  mkdirSync(location, { recursive: true });
  const azurite = await startAzurite({ location, tablePort: azuriteTablePort, allServices: true, detached: true });
  log(`Azurite started (blob 10000, queue 10001, table ${azuriteTablePort}), data in ${location}`);
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

async function runFuncStart(func: string, port: number, stopAzurite: () => Promise<void>): Promise<void> {
  log(`Core Tools found (${func}): running func start --port ${port}`);
  const child = spawn(func, ['start', '--port', String(port)], { cwd: appRoot, stdio: 'inherit', env: process.env });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  const [code] = (await once(child, 'exit')) as [number | null];
  await stopAzurite();
  process.exit(code ?? 0);
}

/**
 * `npm start` runs us under `sh -c "npm run build && node ..."`; a SIGTERM to
 * npm ends the shell but not us, so notice being orphaned and stop as if signalled.
 */
function stopWhenOrphaned(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 500).unref();
}

async function main(): Promise<void> {
  stopWhenOrphaned();
  const settings = readLocalSettings(ensureLocalSettings());
  applySettings(settings.values);
  const hasPortOverride = Boolean(process.env.FUNCTIONS_HTTP_PORT?.trim() || process.env.PORT?.trim());
  const port = hasPortOverride ? portFromEnv(process.env) : (settings.localHttpPort ?? defaultPort);

  const azurite = usesDevelopmentStorage() ? await ensureAzurite() : undefined;
  let azuriteStopped = false;
  const stopAzurite = async (): Promise<void> => {
    if (azurite === undefined || azuriteStopped) return;
    azuriteStopped = true;
    await azurite.stop();
    log('Azurite stopped');
  };

  const func = findOnPath('func');
  if (func !== undefined) return runFuncStart(func, port, stopAzurite);
  log('Core Tools (func) not found: running the project local host (scripts/localHost.ts)');
  await runLocalHostUntilStopped({ appRoot, port }, stopAzurite);
}

main().catch((error: unknown) => {
  console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
