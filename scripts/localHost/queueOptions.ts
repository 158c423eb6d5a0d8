import { availableParallelism } from 'node:os';
import { asObject } from './app';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * host.json `extensions.queues` as the Storage Queues extension reads it
 * (QueuesOptions), with the local host's own visibility window.
 */
export interface QueueOptions {
  /** Messages fetched per poll, 1–32; default 16. */
  readonly batchSize: number;
  /** Fetch the next batch once this few are still running; default `batchSize / 2` × processors. */
  readonly newBatchThreshold: number;
  /** Longest wait between polls of an empty queue; Azure's default is 1 min, the local host's 2 s. */
  readonly maxPollingIntervalMs: number;
  /** How long a message whose function failed stays invisible before it is retried; default 0. */
  readonly visibilityTimeoutMs: number;
  /** Attempts before a message moves to `<queue>-poison`; default 5. */
  readonly maxDequeueCount: number;
  /** `base64` (the default) or `none`: how message text is encoded on the wire. */
  readonly messageEncoding: 'base64' | 'none';
  /**
   * How long a message stays invisible while its function runs, renewed at half
   * of it: `LOCAL_QUEUE_VISIBILITY_SECONDS`, default 600 (Azure: fixed 10 min).
   */
  readonly visibilityWindowSeconds: number;
}

export class QueueOptionsError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'QueueOptionsError';
  }
}

/** The extension's minimum polling interval, and the start of its backoff. */
export const minimumPollingIntervalMs = 100;
const localMaxPollingIntervalMs = 2_000;
const maxBatchSize = 32;
/** The longest visibility timeout Azure Storage accepts: 7 days. */
const maxVisibilitySeconds = 7 * 24 * 3600;
const overridePrefix = 'azurefunctionsjobhost__extensions__queues__';

/**
 * Reads `extensions.queues` from host.json, with app settings
 * `AzureFunctionsJobHost__extensions__queues__<name>` overriding it as they do
 * in Azure. A bad value throws a QueueOptionsError naming it.
 */
export function readQueueOptions(hostJsonQueues: unknown, env: Env, processorCount = availableParallelism()): QueueOptions {
  const configured = new Map<string, { value: unknown; source: string }>();
  for (const [key, value] of Object.entries(asObject(hostJsonQueues) ?? {})) {
    configured.set(key.toLowerCase(), { value, source: `host.json extensions.queues.${key}` });
  }
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && key.toLowerCase().startsWith(overridePrefix)) {
      configured.set(key.slice(overridePrefix.length).toLowerCase(), { value, source: key });
    }
  }
  const option = (name: string): { value: unknown; source: string } | undefined => configured.get(name.toLowerCase());

  const batchSize = readInteger(option('batchSize'), 16, 1, maxBatchSize);
  const newBatchThreshold = readInteger(option('newBatchThreshold'), Math.floor(batchSize / 2) * processorCount, 0, Number.MAX_SAFE_INTEGER);
  const maxPollingIntervalMs = readDuration(option('maxPollingInterval'), localMaxPollingIntervalMs);
  if (maxPollingIntervalMs < minimumPollingIntervalMs) {
    throw new QueueOptionsError(option('maxPollingInterval')?.source ?? 'maxPollingInterval', `must not be less than 00:00:00.100`);
  }
  const visibilityTimeoutMs = readDuration(option('visibilityTimeout'), 0);
  if (visibilityTimeoutMs > maxVisibilitySeconds * 1000) {
    throw new QueueOptionsError(option('visibilityTimeout')?.source ?? 'visibilityTimeout', 'must be at most 7 days');
  }
  const maxDequeueCount = readInteger(option('maxDequeueCount'), 5, 1, Number.MAX_SAFE_INTEGER);
  const encoding = option('messageEncoding');
  const encodingText = encoding === undefined ? 'base64' : String(encoding.value).toLowerCase();
  if (encodingText !== 'base64' && encodingText !== 'none') {
    throw new QueueOptionsError(encoding?.source ?? 'messageEncoding', `must be "base64" or "none", got ${JSON.stringify(encoding?.value)}`);
  }
  const window = env.LOCAL_QUEUE_VISIBILITY_SECONDS?.trim();
  const visibilityWindowSeconds = readInteger(
    window ? { value: window, source: 'LOCAL_QUEUE_VISIBILITY_SECONDS' } : undefined,
    600,
    1,
    maxVisibilitySeconds,
  );
  return { batchSize, newBatchThreshold, maxPollingIntervalMs, visibilityTimeoutMs, maxDequeueCount, messageEncoding: encodingText, visibilityWindowSeconds };
}

function readInteger(option: { value: unknown; source: string } | undefined, fallback: number, min: number, max: number): number {
  if (option === undefined) return fallback;
  const value = typeof option.value === 'string' && /^\s*-?\d+\s*$/.test(option.value) ? Number(option.value) : option.value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new QueueOptionsError(option.source, `must be an integer from ${min} to ${max}, got ${JSON.stringify(option.value)}`);
  }
  return value;
}

function readDuration(option: { value: unknown; source: string } | undefined, fallbackMs: number): number {
  if (option === undefined) return fallbackMs;
  const ms = typeof option.value === 'string' ? parseTimeSpan(option.value) : undefined;
  if (ms === undefined) {
    throw new QueueOptionsError(option.source, `must be a duration such as "00:00:05" ([d.]hh:mm[:ss[.fff]]), got ${JSON.stringify(option.value)}`);
  }
  return ms;
}

/** A .NET TimeSpan as host.json writes it: `[d.]hh:mm[:ss[.fffffff]]`; undefined when it is not one. */
export function parseTimeSpan(text: string): number | undefined {
  const match = /^\s*(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?\s*$/.exec(text);
  if (match === null) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  const fractionMs = fraction === '' ? 0 : Math.round(Number(`0.${fraction}`) * 1000);
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000 + fractionMs;
}
