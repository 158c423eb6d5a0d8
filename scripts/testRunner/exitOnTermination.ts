/**
 * Preloaded (`--require`) into every test process by scripts/runTests.ts.
 *
 * When a test file runs past its timeout, node's test runner ends it with
 * SIGTERM. Its default action skips the process's 'exit' handlers, and
 * those are what stop the Azurites and app hosts the file started
 * (scripts/azurite.ts, test/support/appProcess.ts): they would live on and
 * hold their ports. Exiting through process.exit runs them.
 *
 * Only in the test file's own process (node's runner marks it with
 * NODE_TEST_CONTEXT): the runner's process reports the timeout itself.
 */
if (process.env['NODE_TEST_CONTEXT'] !== undefined) {
  process.once('SIGTERM', () => process.exit(143));
}
