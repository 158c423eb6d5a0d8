/** When to try a failed send again: the channel's Retry-After if it gave one, else exponential backoff. */

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  readonly random: () => number;
}

export const defaultBackoff: BackoffOptions = { baseDelayMs: 1_000, maxDelayMs: 30_000, random: Math.random };

/**
 * Milliseconds to wait as asked by a Retry-After header: delay-seconds (the
 * real service sends integers; fractions are accepted) or an HTTP-date.
 * Undefined when absent or unreadable, so the caller falls back to backoff.
 */
export function parseRetryAfter(header: string | null | undefined, nowEpochMs: number = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1_000;
  // An HTTP-date always names the weekday and GMT; this keeps plain numbers and junk out of Date.parse.
  if (!/^[A-Za-z]{3},.*GMT$/.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowEpochMs);
}

/**
 * Delay before retry number `retry` (1 for the first retry): base × 2^(retry-1),
 * capped, with "equal jitter" (half fixed, half random) so that recipients
 * failing together do not all come back at the same moment.
 */
export function backoffDelay(retry: number, options: BackoffOptions = defaultBackoff): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return exponential / 2 + (exponential / 2) * options.random();
}

/** The wait before the next attempt: what the channel asked for, else backoff. */
export function retryDelay(retry: number, retryAfterMs: number | undefined, options: BackoffOptions = defaultBackoff): number {
  return retryAfterMs ?? backoffDelay(retry, options);
}
