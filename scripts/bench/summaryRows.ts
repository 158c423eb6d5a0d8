import { deliveriesPerSecond, lostOf, type Measured } from './measure';
import type { SummaryRow } from './scenario';

/** What a throughput run must show, beside its deliveries/s (from issue 9's targets). */
export interface Target {
  readonly minPerSecond: number;
  /** No recipient lost or delivered twice. Default true. */
  readonly exact?: boolean;
  /** Most 429s caused by our own pace (a full throttling window), as a fraction of requests. */
  readonly maxOwnThrottled?: number;
  /** Most 429s of any kind, as a fraction of requests. */
  readonly maxThrottled?: number;
  /** Every extra request is counted in the summary's `retried`. */
  readonly retriesCounted?: boolean;
}

/** A summary line for one engine run: deliveries/s against the target, with the counts that go with it. */
export function throughputRow(scenario: string, engine: Measured, target: Target | undefined, baseline?: string): SummaryRow {
  const rate = deliveriesPerSecond(engine);
  return {
    scenario,
    result: `${rate.toFixed(1)}/s`,
    ...(baseline !== undefined ? { baseline } : {}),
    ...(target !== undefined ? { target: describeTarget(target), met: meets(engine, target) } : {}),
    detail: countsOf(engine),
  };
}

function describeTarget(target: Target): string {
  const parts = [`≥ ${target.minPerSecond}/s`];
  if (target.exact ?? true) parts.push('0 lost, 0 dup');
  if (target.maxOwnThrottled !== undefined) parts.push(`own 429s ≤ ${(target.maxOwnThrottled * 100).toFixed(0)}%`);
  if (target.maxThrottled !== undefined) parts.push(`429s ≤ ${(target.maxThrottled * 100).toFixed(0)}%`);
  if (target.retriesCounted === true) parts.push('retries counted');
  return parts.join(', ');
}

function meets(engine: Measured, target: Target): boolean {
  const { requests, throttled, throttledByRate, duplicates } = engine.stats;
  const checks = [deliveriesPerSecond(engine) >= target.minPerSecond];
  if (target.exact ?? true) checks.push(lostOf(engine) === 0 && duplicates === 0);
  if (target.maxOwnThrottled !== undefined) checks.push(throttledByRate <= target.maxOwnThrottled * requests);
  if (target.maxThrottled !== undefined) checks.push(throttled <= target.maxThrottled * requests);
  if (target.retriesCounted === true) checks.push(engine.summary !== undefined && engine.summary.matched + engine.summary.retried === requests);
  return checks.every(Boolean);
}

export function countsOf(m: Measured): string {
  const { requests, throttled, throttledByRate, duplicates } = m.stats;
  const percent = (count: number): string => `${((100 * count) / Math.max(1, requests)).toFixed(1)}%`;
  return (
    `${requests} requests, 429s ${throttled} (${percent(throttled)}; own pace ${throttledByRate}, ${percent(throttledByRate)}), ` +
    `retried ${m.summary?.retried ?? '-'}, lost ${lostOf(m)}, dup ${duplicates}, CPU ${(m.cpuMs / Math.max(1, requests)).toFixed(2)} ms/req`
  );
}

/** Min and median of the runs' deliveries/s, for a scenario run several times. */
export function spread(runs: readonly Measured[]): string {
  const rates = runs.map(deliveriesPerSecond).sort((a, b) => a - b);
  const median = rates[Math.floor((rates.length - 1) / 2)] ?? 0;
  return `min ${(rates[0] ?? 0).toFixed(1)}/s, median ${median.toFixed(1)}/s`;
}

export function printSummary(rows: readonly SummaryRow[]): void {
  if (rows.length === 0) return;
  const header = ['scenario', 'result', 'baseline', 'target', 'met', 'detail'];
  const cells = rows.map((row) => [
    row.scenario,
    row.result,
    row.baseline ?? '-',
    row.target ?? '-',
    row.met === undefined ? '-' : row.met ? 'yes' : 'NO',
    row.detail,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => (line[i] ?? '').length)));
  const line = (values: readonly string[]): string => `| ${values.map((value, i) => value.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log('\n=== summary');
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const values of cells) console.log(line(values));
}
