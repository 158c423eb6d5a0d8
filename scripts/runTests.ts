import path from 'node:path';
import { longestFirst, readDurations, saveDurations } from './testRunner/durationHistory';
import { runTestFile, stopRunningFiles, type FileOutcome } from './testRunner/runTestFile';
import { findTestFiles, type Lane, type TestFile } from './testRunner/testFiles';

/**
 * `npm test`: every compiled test file under dist/test, each in node's test
 * runner in a process of its own, the unit files several at once beside the
 * files that start servers and processes, then the files marked
 * `// runTests: alone` one by one, and one summary at the end.
 *
 *   node dist/scripts/runTests.js [unit|e2e|integration|functions|<file>...] [--concurrency=N]
 *     [--file-timeout=SECONDS] [--test-name-pattern=...]
 *
 * No run can hang: each file is bounded (see testRunner/runTestFile.ts); a
 * file that fails or times out is reported and the others go on; the exit
 * code is 1 when anything failed. Options starting with --test- go to node's
 * test runner. TEST_CONCURRENCY and TEST_FILE_TIMEOUT_SECONDS set the same as
 * --concurrency and --file-timeout.
 */

const testRoot = path.join(__dirname, '..', 'test');

interface RunnerOptions {
  readonly selectors: readonly string[];
  readonly nodeArgs: readonly string[];
  /** Files of each lane run at once. */
  readonly concurrency: Readonly<Record<Lane, number>>;
  readonly fileTimeoutMs: number;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const files = findTestFiles(testRoot, options.selectors);
  const history = readDurations();
  const started = performance.now();
  const outcomes: FileOutcome[] = [];
  const lanes = (['unit', 'process', 'alone'] as const).map((lane) => () =>
      runLane(
        longestFirst(files.filter((file) => file.lane === lane), history),
        options.concurrency[lane],
      async (file) => {
        const timeoutMs = Math.max(options.fileTimeoutMs, (file.timeoutSeconds ?? 0) * 1_000);
        const outcome = await runTestFile(file.path, { timeoutMs, nodeArgs: options.nodeArgs });
        outcomes.push(outcome);
        printFile(file, outcome);
      },
    ),
  );
  const [unitLane, processLane, aloneLane] = lanes as [() => Promise<void>, () => Promise<void>, () => Promise<void>];
  // One file at a time means one file at a time: the lanes take turns.
  if (options.concurrency.process === 1) for (const lane of lanes) await lane();
  else await Promise.all([unitLane(), processLane()]);
  await aloneLane();
  const nameOf = new Map(files.map((file) => [file.path, file.name]));
  if (options.nodeArgs.length === 0 && options.selectors.length === 0) {
    saveDurations(history, Object.fromEntries(outcomes.map((outcome) => [nameOf.get(outcome.file) ?? outcome.file, Math.round(outcome.durationMs)])));
  }
  return printSummary(outcomes, nameOf, performance.now() - started);
}

/** Runs the files, at most `concurrency` at once, in the order given. */
async function runLane(files: readonly TestFile[], concurrency: number, run: (file: TestFile) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length && !interrupted) {
      const file = files[next++] as TestFile;
      await run(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

function printFile(file: TestFile, outcome: FileOutcome): void {
  const failed = !passed(outcome);
  process.stdout.write(`\n${failed ? '✖' : '▶'} ${file.name}\n${outcome.output.trimEnd()}\n`);
  process.stdout.write(`${failed ? '✖' : '✔'} ${file.name} ${describeOutcome(outcome)} (${seconds(outcome.durationMs)})\n`);
}

/**
 * Node 22 exits 0 with `fail 0` when a suite throws while it is built (a describe body that cannot read its
 * fixture): its tests never run. So a reported failure, or a file that ran no test at all, fails the file too.
 */
function passed(outcome: FileOutcome): boolean {
  const summary = outcome.summary;
  if (outcome.exitCode !== 0 || summary === undefined) return false;
  const { counts, failures } = summary;
  return (counts['fail'] ?? 0) === 0 && (counts['cancelled'] ?? 0) === 0 && failures.length === 0 && (counts['tests'] ?? 0) > 0;
}

function describeOutcome(outcome: FileOutcome): string {
  const counts = outcome.summary?.counts;
  const parts = counts === undefined ? ['no summary'] : [`${counts['pass'] ?? 0} passed`, `${(counts['fail'] ?? 0) + (counts['cancelled'] ?? 0)} failed`];
  if (counts !== undefined && (counts['tests'] ?? 0) === 0) parts.push('no test ran');
  else if (outcome.summary !== undefined && outcome.summary.failures.length > 0 && (counts?.['fail'] ?? 0) === 0) parts.push('a suite failed');
  if (outcome.killed) parts.push('killed after its timeout');
  else if (outcome.exitCode !== 0) parts.push(`exit ${outcome.exitCode ?? outcome.signal}`);
  return parts.join(', ');
}

function printSummary(outcomes: readonly FileOutcome[], nameOf: ReadonlyMap<string, string>, elapsedMs: number): number {
  const total = (name: string): number => outcomes.reduce((sum, outcome) => sum + (outcome.summary?.counts[name] ?? 0), 0);
  const failedFiles = outcomes.filter((outcome) => !passed(outcome));
  // A file that failed without a failing test counted (it crashed, or was killed before node reported) counts as one failure.
  const uncounted = failedFiles.filter((outcome) => (outcome.summary?.counts['fail'] ?? 0) + (outcome.summary?.counts['cancelled'] ?? 0) === 0).length;
  const failed = total('fail') + total('cancelled') + uncounted;
  const name = (outcome: FileOutcome): string => nameOf.get(outcome.file) ?? outcome.file;

  const lines = ['', '── summary ──'];
  lines.push(`files ${outcomes.length}: ${outcomes.length - failedFiles.length} passed, ${failedFiles.length} failed`);
  const slowest = [...outcomes].sort((a, b) => b.durationMs - a.durationMs).slice(0, 10);
  lines.push(`slowest files: ${slowest.map((outcome) => `${name(outcome)} ${seconds(outcome.durationMs)}`).join(', ')}`);
  for (const outcome of failedFiles) {
    lines.push(`✖ ${name(outcome)}: ${describeOutcome(outcome)}`);
    for (const failure of outcome.summary?.failures ?? []) lines.push(`    ${failure}`);
  }
  for (const count of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) lines.push(`ℹ ${count} ${total(count)}`);
  lines.push(`ℹ duration_ms ${Math.round(elapsedMs)}`);
  if (interrupted) lines.push('interrupted: not every test file ran');
  const skipped = total('skipped');
  lines.push(`${total('pass')} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return failed > 0 || failedFiles.length > 0 || interrupted ? 1 : 0;
}

function parseOptions(args: readonly string[], env: NodeJS.ProcessEnv): RunnerOptions {
  const selectors: string[] = [];
  const nodeArgs: string[] = [];
  let concurrency = env['TEST_CONCURRENCY'];
  let fileTimeout = env['TEST_FILE_TIMEOUT_SECONDS'];
  for (const arg of args) {
    if (arg.startsWith('--concurrency=')) concurrency = arg.slice('--concurrency='.length);
    else if (arg.startsWith('--file-timeout=')) fileTimeout = arg.slice('--file-timeout='.length);
    else if (arg.startsWith('--test-')) nodeArgs.push(arg);
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (options: --concurrency=N, --file-timeout=SECONDS, --test-… for node's test runner)`);
    else selectors.push(arg);
  }
  const processLane = positiveInteger(concurrency, 4, 'TEST_CONCURRENCY / --concurrency');
  return {
    selectors,
    nodeArgs,
    concurrency: { unit: processLane === 1 ? 1 : Math.max(4, processLane), process: processLane, alone: 1 },
    fileTimeoutMs: positiveInteger(fileTimeout, 300, 'TEST_FILE_TIMEOUT_SECONDS / --file-timeout') * 1_000,
  };
}

function positiveInteger(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a whole number of at least 1, got "${value}"`);
  return number;
}

function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)} s`;
}

/** Set by Ctrl-C (or SIGTERM): no file starts after it, the running ones are ended, the summary says what ran. */
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the test files still running`);
    stopRunningFiles();
    setTimeout(() => process.exit(130), 15_000).unref();
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
