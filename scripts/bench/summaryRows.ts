import { deliveriesPerSecond, lostOf, type Measured } from './measure';
import type { SummaryRow } from './scenario';
import type { ThroughputResult } from './throughput';

/** A summary line for a throughput run: deliveries/s against a minimum, with the counts that go with it. */
export function throughputRow(scenario: string, result: ThroughputResult, minPerSecond?: number, extraTarget = ''): SummaryRow {
  const { engine, baseline } = result;
  const rate = deliveriesPerSecond(engine);
  return {
    scenario,
    result: `${rate.toFixed(1)}/s`,
    ...(baseline !== undefined ? { baseline: `${deliveriesPerSecond(baseline).toFixed(1)}/s` } : {}),
    ...(minPerSecond !== undefined ? { target: `≥ ${minPerSecond}/s${extraTarget}`, met: rate >= minPerSecond } : {}),
    detail: countsOf(engine),
  };
}

export function countsOf(m: Measured): string {
  return `${m.stats.throttled} × 429 of ${m.stats.requests} requests, retried ${m.summary?.retried ?? '-'}, lost ${lostOf(m)}, duplicates ${m.stats.duplicates}`;
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
