import type { TestEvent } from 'node:test/reporters';
import { summaryMarker, type SummaryLine } from './fileSummary';

/**
 * A node:test reporter for scripts/runTests.ts: the runner starts each test
 * file with the spec reporter for people and this one for itself. Its lines
 * go to stderr, each the marker and a SummaryLine in JSON: node's own counts
 * (the `tests`, `pass`, `fail`… diagnostics that end every run) and each
 * test or hook that failed, with its suites and its error's first line.
 *
 * A line as each event comes, not one at the end, and a pipe, not a file:
 * a file's run may be ended at any moment (its timeout, Ctrl-C), and what
 * it reported until then still counts.
 */

const countNames = new Set(['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms']);

async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string, void> {
  /** The names of the suites the next events are in, by nesting level. */
  const path: string[] = [];
  for await (const event of source) {
    const line = summaryLine(event, path);
    if (line !== undefined) yield `${summaryMarker}${JSON.stringify(line)}\n`;
  }
}

function summaryLine(event: TestEvent, path: string[]): SummaryLine | undefined {
  if (event.type === 'test:start') path[event.data.nesting] = event.data.name;
  if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
    const [name, value] = event.data.message.split(' ');
    if (name !== undefined && countNames.has(name) && value !== undefined && Number.isFinite(Number(value))) return { count: name, value: Number(value) };
  }
  if (event.type === 'test:fail') {
    const { name, nesting, details } = event.data;
    // A suite fails when a test or hook in it did; its tests are listed themselves, a failed hook only here.
    const failureType = (details.error as { failureType?: string } | undefined)?.failureType;
    if (details.type === 'suite' && failureType === 'subtestsFailed') return undefined;
    return { failure: `${[...path.slice(0, nesting), name].join(' › ')}: ${firstLine(details.error)}` };
  }
  return undefined;
}

function firstLine(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  // An error rebuilt from another process may be a plain object without toString (a null prototype).
  const message =
    cause instanceof Error ? cause.message : typeof cause === 'object' && cause !== null && 'message' in cause ? String(cause.message) : String(cause);
  return message.split('\n')[0] ?? '';
}

export = summaryReporter;
