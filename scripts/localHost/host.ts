// localHost/: a stand-in for Core Tools' `func start`: loads the compiled functions through
// @azure/functions' own worker interface and serves them over HTTP and timers. Imports nothing from the app.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describeApp } from './app';
import { FunctionsRegistry, installFunctionsCore } from './core';
import { createRequestListener, defaultMaxRequestBodyBytes, httpRoute, type HttpRoute, type ManualRunOutcome } from './http';
import { invokeFunction, triggerBinding } from './invoke';
import { consoleHostLog, describeError, type HostLog } from './log';
import { startQueueTriggers, type QueueTriggerDefinition, type RunningQueueTriggers } from './queueTriggers';
import { startTimers, timerTriggerData, type TimerDefinition } from './timers';

/**
 * A small stand-in for `func start` where Core Tools cannot be installed: it
 * provides `@azure/functions-core` to the `@azure/functions` package, loads the
 * compiled functions named by package.json `main`, and serves them over HTTP,
 * on their timer schedules and from their storage queues, invoking them
 * through the package's own invocation model.
 */

type Env = Readonly<Record<string, string | undefined>>;

export const defaultPort = 7071;

export interface LocalHostOptions {
  /** Folder with package.json and host.json; default the current folder (like func). */
  readonly appRoot?: string;
  /** Default 7071; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1 and ::1 (what `localhost` resolves to). */
  readonly hostnames?: readonly string[];
  /** App settings; default process.env. */
  readonly env?: Env;
  readonly log?: HostLog;
  /** Create the queues (and poison queues) of queue-triggered functions when missing, as npm start does; default false. */
  readonly createQueues?: boolean;
}

export interface LocalHost {
  readonly port: number;
  /** `http://localhost:<port>` */
  readonly url: string;
  readonly functionNames: readonly string[];
  /** Stops timers and queue polling, closes the servers, lets running invocations finish (5 s at most), runs appTerminate hooks. */
  close(): Promise<void>;
}

let registry: FunctionsRegistry | undefined;

export async function startLocalHost(options: LocalHostOptions = {}): Promise<LocalHost> {
  const appRoot = path.resolve(options.appRoot ?? process.cwd());
  const env = options.env ?? process.env;
  const log = options.log ?? consoleHostLog();
  if (registry !== undefined) throw new Error('the local host runs one app per process');
  registry = new FunctionsRegistry();
  const functions = registry;
  installFunctionsCore(functions, (level, message) => log.write(level, message));

  const app = describeApp(appRoot);
  for (const file of app.functionFiles) require(file);

  const { httpRoutes, timers, queues, listing } = sortFunctionsByTrigger(functions, app.routePrefix, env, log);

  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  const runByHand = (functionName: string, input: string): ManualRunOutcome => {
    const registered = [...functions.functions.values()].find(
      (candidate) => candidate.metadata.name.toLowerCase() === functionName.toLowerCase(),
    );
    if (registered === undefined || isDisabled(registered.metadata.name, env)) return 'notFound';
    const triggerType = triggerBinding(registered).type.toLowerCase();
    if (triggerType === 'httptrigger') return 'notRunnableByHand';
    track(invokeFunction(functions, log, registered, triggerType === 'timertrigger' ? timerTriggerData() : { string: input }));
    return 'accepted';
  };

  for (const hook of functions.hooksNamed('appStart')) {
    await hook({ hookData: functions.appHookData, appHookData: functions.appHookData, functionAppDirectory: appRoot });
  }

  const listener = createRequestListener({
    registry: functions,
    log,
    routes: httpRoutes,
    runByHand,
    maxRequestBodyBytes: requestBodySizeLimitFromEnv(env),
  });
  const servers = await listen(listener, options.hostnames ?? ['127.0.0.1', '::1'], options.port ?? defaultPort);
  const port = servers.port;
  const url = `http://localhost:${port}`;

  for (const route of httpRoutes) {
    const methods = route.methods === undefined ? 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS' : [...route.methods].join(',');
    listing.set(route.registered.metadata.name, `[${methods}] ${url}/${route.template}`);
  }
  const runningTimers = startTimers(timers, env, log, async (registered) => {
    const work = invokeFunction(functions, log, registered, timerTriggerData());
    track(work);
    await work;
  });
  for (const [name, description] of runningTimers.descriptions) listing.set(name, description);
  let runningQueues: RunningQueueTriggers;
  try {
    runningQueues = startQueueTriggers(queues, {
      env,
      log,
      queuesExtension: app.queuesExtension,
      createQueues: options.createQueues ?? false,
      invoke: (registered, data, description, triggerMetadata) => invokeFunction(functions, log, registered, data, description, triggerMetadata),
    });
  } catch (error) {
    // Bad host.json queue options: like the Functions host, refuse to start.
    runningTimers.stop();
    await servers.close();
    throw error;
  }
  for (const [name, description] of runningQueues.descriptions) listing.set(name, description);

  log.info(`Local Functions host (no Core Tools) serving ${appRoot}`);
  const lines = [...listing].sort(([left], [right]) => left.localeCompare(right)).map(([name, text]) => `\t${name}: ${text}`);
  console.log(`\nFunctions:\n\n${lines.join('\n\n')}\n`);
  log.info(`Host started, listening on ${url} (${servers.addresses.join(' and ')})`);

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    functionNames: [...functions.functions.keys()],
    close: () => {
      closing ??= (async () => {
        runningTimers.stop();
        // Stops fetching queue messages at once; the ones fetched finish (or stay invisible until their window ends).
        const queuesDone = runningQueues.stop();
        await servers.close();
        // Let running invocations finish, but never wait long for a stuck one.
        await Promise.race([Promise.allSettled([...inFlight, queuesDone]), delay(5_000, undefined, { ref: false })]);
        for (const hook of functions.hooksNamed('appTerminate')) {
          try {
            await hook({ hookData: functions.appHookData, appHookData: functions.appHookData });
          } catch (error) {
            log.error(`appTerminate hook failed: ${describeError(error)}`);
          }
        }
      })();
      return closing;
    },
  };
}

interface FunctionsByTrigger {
  readonly httpRoutes: HttpRoute[];
  readonly timers: TimerDefinition[];
  readonly queues: QueueTriggerDefinition[];
  /** Start-up listing of the functions that are not HTTP or timers, or not served. */
  readonly listing: Map<string, string>;
}

function sortFunctionsByTrigger(functions: FunctionsRegistry, routePrefix: string, env: Env, log: HostLog): FunctionsByTrigger {
  const sorted: FunctionsByTrigger = { httpRoutes: [], timers: [], queues: [], listing: new Map() };
  for (const registered of functions.functions.values()) {
    const name = registered.metadata.name;
    if (isDisabled(name, env)) {
      sorted.listing.set(name, 'disabled');
      continue;
    }
    const { name: bindingName, type } = triggerBinding(registered);
    const binding = registered.metadata.bindings[bindingName];
    for (const [outputName, output] of Object.entries(registered.metadata.bindings)) {
      // Only an HTTP response is written back; say so rather than drop other outputs silently.
      if (output.direction === 'out' && output.type?.toLowerCase() !== 'http') {
        log.warn(`Function '${name}': the local host does not write its '${output.type ?? '?'}' output binding ${outputName}; what the function puts there is dropped`);
      }
    }
    if (type.toLowerCase() === 'httptrigger') {
      try {
        sorted.httpRoutes.push(httpRoute(registered, routePrefix, binding?.route, binding?.methods));
      } catch (error) {
        // Like func: this function is in error, the others are served.
        log.error(`Function '${name}' is not served: ${error instanceof Error ? error.message : String(error)}`);
        sorted.listing.set(name, 'error (see above)');
      }
    } else if (type.toLowerCase() === 'timertrigger') {
      sorted.timers.push({ registered, schedule: binding?.schedule ?? '', runOnStartup: binding?.runOnStartup === true });
    } else if (type.toLowerCase() === 'queuetrigger') {
      sorted.queues.push({ registered, queueName: binding?.queueName ?? '', connection: binding?.connection ?? undefined });
    } else {
      sorted.listing.set(name, `${type} (not triggered by the local host; run it with POST /admin/functions/${name})`);
    }
  }
  return sorted;
}

/** `AzureWebJobs.<name>.Disabled` (or `AzureWebJobs__<name>__Disabled`) set to true or 1. */
export function isDisabled(functionName: string, env: Env): boolean {
  const value = env[`AzureWebJobs.${functionName}.Disabled`] ?? env[`AzureWebJobs__${functionName}__Disabled`];
  return value !== undefined && /^(true|1)$/i.test(value.trim());
}

/** FUNCTIONS_HTTP_PORT, else PORT, else 7071. */
/** Azure's `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` (bytes); the host's default is 100 MB. */
export function requestBodySizeLimitFromEnv(env: Env): number {
  const text = env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT?.trim();
  if (!text) return defaultMaxRequestBodyBytes;
  const limit = Number(text);
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new Error(`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a positive number of bytes, got "${text}"`);
  }
  return limit;
}

export function portFromEnv(env: Env): number {
  const text = env.FUNCTIONS_HTTP_PORT?.trim() || env.PORT?.trim();
  if (!text) return defaultPort;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`FUNCTIONS_HTTP_PORT/PORT must be a port number, got "${text}"`);
  return port;
}

interface Listening {
  readonly port: number;
  readonly addresses: readonly string[];
  close(): Promise<void>;
}

async function listen(listener: ReturnType<typeof createRequestListener>, hostnames: readonly string[], port: number): Promise<Listening> {
  const servers: Server[] = [];
  let boundPort = port;
  for (const [index, hostname] of hostnames.entries()) {
    const server = createServer(listener);
    server.keepAliveTimeout = 5_000;
    try {
      server.listen(boundPort, hostname);
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))]);
    } catch (error) {
      // The first address is required; the others (IPv6 localhost) only when the machine has them.
      if (index === 0) throw error;
      continue;
    }
    const address = server.address();
    if (address !== null && typeof address !== 'string') boundPort = address.port;
    servers.push(server);
  }
  return {
    port: boundPort,
    addresses: servers.map((server) => {
      const address = server.address();
      return address !== null && typeof address !== 'string' ? address.address : String(address);
    }),
    close: async () => {
      await Promise.all(
        servers.map(async (server) => {
          const closed = once(server, 'close');
          server.close();
          server.closeIdleConnections();
          const forced = setTimeout(() => server.closeAllConnections(), 2_000);
          await closed;
          clearTimeout(forced);
        }),
      );
    },
  };
}

function parseArguments(argv: readonly string[]): { appRoot?: string; port?: number } {
  const result: { appRoot?: string; port?: number } = {};
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (flag === '--app-root' && value !== undefined) {
      result.appRoot = value;
      index++;
    } else if (flag === '--port' && value !== undefined) {
      result.port = portFromEnv({ PORT: value });
      index++;
    } else {
      throw new Error(`unknown argument "${flag}" (usage: localHost/host.js [--app-root <folder>] [--port <port>])`);
    }
  }
  return result;
}

/**
 * Aborted by the first SIGINT or SIGTERM, with the signal's name as reason.
 * A second one exits at once, to cut a stuck shutdown short.
 */
export function abortOnSignals(log: HostLog): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/**
 * Serves the app until `stop` is aborted, then closes the host. Resolves with
 * the exit code: 0 once stopped, 1 when the host could not start or the app
 * threw outside an invocation.
 */
export async function serveUntilStopped(options: LocalHostOptions, stop: AbortSignal): Promise<number> {
  const log = options.log ?? consoleHostLog();
  const crashed = new AbortController();
  process.on('unhandledRejection', (reason) => log.error(`Unhandled promise rejection in the app: ${describeError(reason)}`));
  process.on('uncaughtException', (error) => {
    log.error(`Uncaught exception in the app: ${describeError(error)}`);
    crashed.abort('Uncaught exception');
  });
  let host: LocalHost;
  try {
    host = await startLocalHost({ ...options, log });
  } catch (error) {
    log.error(`The local host could not start: ${describeError(error)}`);
    return 1;
  }
  const stopping = AbortSignal.any([stop, crashed.signal]);
  if (!stopping.aborted) await once(stopping, 'abort');
  log.info(`${String(stopping.reason)}: stopping the host`);
  try {
    await host.close();
  } catch (error) {
    log.error(`Closing the host failed: ${describeError(error)}`);
  }
  return crashed.signal.aborted ? 1 : 0;
}

if (require.main === module) {
  const cli = parseArguments(process.argv.slice(2));
  const log = consoleHostLog();
  const options = { appRoot: cli.appRoot, port: cli.port ?? portFromEnv(process.env), log };
  void serveUntilStopped(options, abortOnSignals(log)).then((exitCode) => process.exit(exitCode));
}
