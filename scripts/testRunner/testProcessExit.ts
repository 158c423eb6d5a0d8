import { after } from 'node:test';

/**
 * Preloaded (`--require`) into every test process by scripts/runTests.ts:
 * how a test file's process ends, whatever its tests left behind.
 *
 * - Once every test and hook of the file is done, the process exits, even
 *   when a failed setup left a server or a child process running that no
 *   teardown could reach (it would otherwise keep the file, and the run,
 *   waiting forever). Node's own --test-force-exit does this too, but Node
 *   22 sometimes exits with suites of the file not run yet, and says nothing.
 * - When a file runs past its timeout, node's test runner ends it with
 *   SIGTERM, whose default action skips the 'exit' handlers that stop the
 *   Azurites and app hosts the file started (scripts/azurite.ts,
 *   test/support/appProcess.ts): they would live on and hold their ports.
 *   Exiting through process.exit runs them.
 *
 * Only in the test file's own process (node's runner marks it with
 * NODE_TEST_CONTEXT): the runner's process ends by itself.
 */

/**
 * From the first of the file's closing root hooks (this one, registered before the file loads) to the exit, for a
 * process that does not end by itself: long enough for the file's own closing hooks to stop what they started
 * (each stop here gives a process 5 s), and for node to report and set the exit code.
 */
const lingerMs = 10_000;

if (process.env['NODE_TEST_CONTEXT'] !== undefined) {
  process.once('SIGTERM', () => process.exit(143));
  after(() => {
    // Unref'd: a process with nothing left running exits by itself as soon as it is done, with node's exit code.
    setTimeout(() => process.exit(), lingerMs).unref();
  });
}
