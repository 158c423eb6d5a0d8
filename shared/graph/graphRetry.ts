/** When Graph's answers are worth another attempt, and how long to wait before it. */

/** Throttled (429) or a passing outage (502, 503, 504): Graph's guidance is to retry these, after Retry-After when given. */
export function isRetryable(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Retry-After as milliseconds: delay-seconds (fractions accepted) or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, nowEpochMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1_000;
  if (!/GMT$/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowEpochMs);
}

/** Exponential backoff from 1 s, capped at 30 s, half of it random, for failures that did not say how long to wait. */
export function backoffMs(attempt: number, random: () => number): number {
  const exponential = Math.min(30_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  return exponential / 2 + (exponential / 2) * random();
}
