import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { summaryMarker, type FileSummary, type SummaryLine } from './fileSummary';

/**
 * Runs one test file in node's test runner, in a process group of its own,
 * with every bound a file needs so that no run can hang:
 *
 * - `--test-timeout`: node fails any test that runs longer, and ends the
 *   whole file (SIGTERM to its process) once it has run that long;
 * - testProcessExit.js: the file's process exits once its tests and hooks are
 *   done, even when a failed setup left a server or a child process behind,
 *   and a file ended by SIGTERM still stops what it started;
 * - and a last resort here: if node's runner itself has not ended a little
 *   after the timeout, the whole group is killed.
 *
 * Whatever is left in the group when the file ends is killed too.
 */

export interface RunTestFileOptions {
  /** Each test and hook, and the whole file, within this. */
  readonly timeoutMs: number;
  /** Extra node options for the run, such as `--test-name-pattern=...`. */
  readonly nodeArgs: readonly string[];
}

export interface FileOutcome {
  readonly file: string;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The runner, not node's test runner, had to kill the file. */
  readonly killed: boolean;
  /** The spec reporter's output and the file's stderr. */
  readonly output: string;
  /** Undefined when the file's run ended before node's reporters did. */
  readonly summary: FileSummary | undefined;
}

/** The process groups of the files running now. */
const running = new Set<number>();

/**
 * Ends every file still running, as a Ctrl-C of the runner must: each runs in
 * a group of its own, which a terminal's Ctrl-C does not reach.
 */
export function stopRunningFiles(): void {
  for (const pid of running) signalGroup(pid, 'SIGTERM');
  setTimeout(() => {
    for (const pid of running) signalGroup(pid, 'SIGKILL');
  }, killGraceMs).unref();
}

/** How long after the timeout node's runner may take to end the file before its whole group is killed. */
const lastResortGraceMs = 30_000;
/** Between SIGTERM and SIGKILL to the group. */
const killGraceMs = 5_000;

export async function runTestFile(file: string, options: RunTestFileOptions): Promise<FileOutcome> {
  const started = performance.now();
  const env = { ...process.env };
  // The runner may itself run under node --test (its own tests do): the file gets a runner of its own.
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(
    process.execPath,
    [
      '--require', path.join(__dirname, 'testProcessExit.js'),
      '--test',
      `--test-timeout=${options.timeoutMs}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      `--test-reporter=${path.join(__dirname, 'summaryReporter.js')}`, '--test-reporter-destination=stderr',
      ...options.nodeArgs,
      file,
    ],
    { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid !== undefined) running.add(child.pid);
  let output = '';
  const counts: Record<string, number> = {};
  const failures: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  createInterface({ input: child.stderr }).on('line', (line) => {
    const reported = line.startsWith(summaryMarker) ? parseLine(line.slice(summaryMarker.length)) : undefined;
    if (reported === undefined) output += `${line}\n`;
    else if ('count' in reported) counts[reported.count] = reported.value;
    else failures.push(reported.failure);
  });

  let killed = false;
  const lastResort = setTimeout(() => {
    killed = true;
    output += `\n[runTests] ${file} did not end within ${Math.round(options.timeoutMs / 1_000)} s (+${lastResortGraceMs / 1_000} s): killing its processes\n`;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), killGraceMs).unref();
  }, options.timeoutMs + lastResortGraceMs);

  const closed = once(child, 'close');
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(lastResort);
  signalGroup(child.pid, 'SIGKILL');
  if (child.pid !== undefined) running.delete(child.pid);
  await closed;
  return { file, durationMs: performance.now() - started, exitCode, signal, killed, output, summary: summaryOf(counts, failures, output) };
}

/** The reporter's counts, or else the spec reporter's closing lines (`ℹ tests 8`…) should an exit have cut the reporter short. */
function summaryOf(counts: Readonly<Record<string, number>>, failures: readonly string[], output: string): FileSummary | undefined {
  if ('tests' in counts) return { counts, failures };
  const fromSpec = Object.fromEntries([...output.matchAll(/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/gm)].map((match) => [match[1], Number(match[2])]));
  return 'tests' in fromSpec ? { counts: fromSpec, failures } : undefined;
}

function parseLine(json: string): SummaryLine | undefined {
  try {
    return JSON.parse(json) as SummaryLine;
  } catch {
    return undefined;
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}
