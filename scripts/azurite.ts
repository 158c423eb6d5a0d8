import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';

/** The well-known development account every Azurite accepts. */
const devAccount = 'devstoreaccount1';
/** Azurite's queue port when it runs every service on its default ports. */
const defaultQueuePort = 10001;
const devKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * Azurites not stopped yet. If this process exits without stopping them (a
 * second Ctrl-C, process.exit elsewhere), they are told to stop too: a
 * detached one would otherwise outlive us and hold its ports.
 */
const unstopped = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of unstopped) child.kill('SIGINT');
});

export interface RunningAzurite {
  readonly tablePort: number;
  /** The queue port when the queue service runs (`queue` or `allServices`). */
  readonly queuePort: number | undefined;
  /** A connection string for the table endpoint of this Azurite, and its queue endpoint when the queue service runs. */
  readonly connectionString: string;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Folder for the data; without it the data lives in memory and goes with the process. */
  readonly location?: string;
  /** Table port; 0 or absent picks a free one. */
  readonly tablePort?: number;
  /** Start blob and queue too, on their default ports (what `func start` needs for timers and queue triggers). */
  readonly allServices?: boolean;
  /** Start the queue service too (without blob), on `queuePort` or a free port. */
  readonly queue?: boolean;
  /** Queue port with `queue`; 0 or absent picks a free one. */
  readonly queuePort?: number;
  /** Serve https with this certificate and accept only OAuth bearer tokens (Azurite's `--oauth basic`), as a keyless account does. */
  readonly tokenOnly?: { readonly certPath: string; readonly keyPath: string };
  readonly startTimeoutMs?: number;
  /**
   * Own process group, so a terminal's Ctrl-C reaches only the launcher, which
   * stops Azurite once: a second SIGINT kills Azurite before it saves its data.
   */
  readonly detached?: boolean;
  /** More storage accounts (name → base64 key) besides the development account, as Azurite's AZURITE_ACCOUNTS. */
  readonly extraAccounts?: Readonly<Record<string, string>>;
}

export function tableConnectionString(port: number, queuePort?: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${devAccount};AccountKey=${devKey};` +
    `TableEndpoint=http://127.0.0.1:${port}/${devAccount};` +
    (queuePort === undefined ? '' : `QueueEndpoint=http://127.0.0.1:${queuePort}/${devAccount};`)
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read a free port');
  return address.port;
}

/** Whether something accepts connections on this 127.0.0.1 port. */
export async function isPortTaken(port: number): Promise<boolean> {
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

/**
 * A free port found by freePort can be taken by another process before Azurite
 * binds it (test files start side by side): with ports of its own choosing, a
 * start that lost that race is tried again on new ports.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const choosesPorts = !options.tablePort && !options.queuePort;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startAzuriteOnce(options);
    } catch (error) {
      const lostPortRace = error instanceof Error && error.message.includes('EADDRINUSE');
      if (!choosesPorts || !lostPortRace || attempt === 3) throw error;
    }
  }
}

async function startAzuriteOnce(options: AzuriteOptions): Promise<RunningAzurite> {
  const tablePort = options.tablePort || (await freePort());
  const bin = options.allServices ? 'azurite/dist/src/azurite.js' : 'azurite/dist/src/table/main.js';
  const common = [
    '--silent',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
    ...(options.tokenOnly ? ['--oauth', 'basic', '--cert', options.tokenOnly.certPath, '--key', options.tokenOnly.keyPath] : []),
  ];
  const args = [
    require.resolve(bin),
    '--tableHost', '127.0.0.1',
    '--tablePort', String(tablePort),
    ...(options.allServices ? ['--blobHost', '127.0.0.1', '--queueHost', '127.0.0.1'] : []),
    ...common,
  ];
  // Azurite drops the development account when accounts are listed, so it is listed too.
  const accounts = Object.entries({ [devAccount]: devKey, ...options.extraAccounts });
  const env = options.extraAccounts ? { ...process.env, AZURITE_ACCOUNTS: accounts.map(([name, key]) => `${name}:${key}`).join(';') } : process.env;
  const children: ChildProcess[] = [];
  const spawnAzurite = (serviceArgs: readonly string[]): ChildProcess => {
    const child = spawn(process.execPath, serviceArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false, env });
    unstopped.add(child);
    child.once('exit', () => unstopped.delete(child));
    children.push(child);
    return child;
  };
  // The table-only and queue-only launchers save their data only on SIGINT: SIGTERM loses the writes since their last autosave.
  const stop = (): Promise<void> => Promise.all(children.map((child) => stopChild(child, 5_000, 'SIGINT'))).then(() => undefined);
  let queuePort: number | undefined = options.allServices ? defaultQueuePort : undefined;
  try {
    const table = spawnAzurite(args);
    const started = [waitForService(table, 'Table', tablePort, options.startTimeoutMs ?? 30_000)];
    if (options.queue && !options.allServices) {
      queuePort = options.queuePort || (await freePort());
      const queue = spawnAzurite([require.resolve('azurite/dist/src/queue/main.js'), '--queueHost', '127.0.0.1', '--queuePort', String(queuePort), ...common]);
      started.push(waitForService(queue, 'Queue', queuePort, options.startTimeoutMs ?? 30_000));
    }
    await Promise.all(started);
  } catch (error) {
    await stop();
    throw error;
  }
  return { tablePort, queuePort, connectionString: tableConnectionString(tablePort, queuePort), stop };
}

async function waitForService(child: ChildProcess, service: 'Table' | 'Queue', port: number, timeoutMs: number): Promise<void> {
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      // "Table service is successfully listening at http://127.0.0.1:<port>", "Queue service successfully listens on https://...".
      if (new RegExp(`${service} service (is )?successfully (started on|listening at|listens on) (https?://)?127\\.0\\.0\\.1:${port}\\b`).test(output)) done();
    };
    const onExit = (code: number | null): void => fail(new Error(`Azurite exited with code ${code}:\n${output}`));
    function done(): void {
      cleanup();
      resolve();
    }
    function fail(error: Error): void {
      cleanup();
      child.kill();
      reject(error);
    }
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
  // Keep draining output so a chatty Azurite never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
}

export async function stopChild(child: ChildProcess, graceMs = 5_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
