import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { isPortTaken } from '../../scripts/azurite';
import { repoRoot } from '../support/appProcess';

/**
 * `npm test`'s runner (scripts/runTests.ts) on test files that cannot
 * finish, from test/fixtures/runner/: each run ends, says what failed and
 * why, and exits 1, while the file beside them still passes.
 */

interface Run {
  readonly exitCode: number | null;
  readonly output: string;
}

const fixture = (name: string): string => path.join(repoRoot, 'dist', 'test', 'fixtures', 'runner', `${name}.js`);

/** The runner as `npm test` starts it, bounded here too: a run that did not end fails the test instead of hanging it. */
function runTests(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'dist', 'scripts', 'runTests.js'), ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 150_000, killSignal: 'SIGKILL', maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ exitCode, output: `${stdout}${stderr}` });
      },
    );
  });
}

const lastLine = (output: string): string => output.trimEnd().split('\n').at(-1) ?? '';

describe('npm test when a test file cannot finish', () => {
  let setupFails: Run;
  let setupHangs: Run;
  let breaksAtLoad: Run;

  before(async () => {
    [setupFails, setupHangs, breaksAtLoad] = await Promise.all([
      // The browser cannot start: the setup fails after Azurite and a server started.
      runTests([fixture('setupFails'), fixture('lingers'), fixture('passes')], { CHROMIUM_PATH: '/nonexistent/chromium' }),
      runTests(['--file-timeout=20', fixture('setupHangs'), fixture('passes')]),
      runTests([fixture('suiteBreaksAtLoad'), fixture('passes')]),
    ]);
  });

  test('a suite whose setup fails ends its file with the reason, and the run ends with the summary and exit code 1', () => {
    assert.equal(setupFails.exitCode, 1, setupFails.output);
    assert.match(setupFails.output, /✖ dist\/test\/fixtures\/runner\/setupFails\.js: 0 passed, 2 failed/);
    assert.match(setupFails.output, /a suite whose setup fails after starting Azurite and a server: CHROMIUM_PATH is "\/nonexistent\/chromium", which is not an executable file/);
    assert.match(setupFails.output, /^files 3: 2 passed, 1 failed$/m);
    assert.equal(lastLine(setupFails.output), '5 passed, 2 failed');
  });

  test('a suite that throws while it is built fails its file and the run, though node reports no failed test', () => {
    assert.equal(breaksAtLoad.exitCode, 1, breaksAtLoad.output);
    assert.match(breaksAtLoad.output, /✖ dist\/test\/fixtures\/runner\/suiteBreaksAtLoad\.js: 0 passed, 0 failed, no test ran/);
    assert.match(breaksAtLoad.output, /^files 2: 1 passed, 1 failed$/m);
    assert.equal(lastLine(breaksAtLoad.output), '1 passed, 1 failed');
  });

  test('a file whose tests leave a server running ends once they are done, with every suite run', () => {
    assert.match(setupFails.output, /^✔ dist\/test\/fixtures\/runner\/lingers\.js 4 passed, 0 failed/m);
  });

  test('nothing that the failed setup started is left running', async () => {
    const started = /fixture: Azurite on table port (\d+), a server at http:\/\/127\.0\.0\.1:(\d+)/.exec(setupFails.output);
    assert.ok(started !== null, `the fixture said what it started:\n${setupFails.output}`);
    for (const port of [Number(started[1]), Number(started[2])]) assert.equal(await isPortTaken(port), false, `port ${port} is free again`);
  });

  test('a file whose setup never finishes is ended at its timeout and reported, and the run ends with the summary and exit code 1', () => {
    assert.equal(setupHangs.exitCode, 1, setupHangs.output);
    assert.match(setupHangs.output, /✖ dist\/test\/fixtures\/runner\/setupHangs\.js: 0 passed, 1 failed/);
    assert.match(setupHangs.output, /setupHangs\.js: test timed out after 20000ms/);
    assert.match(setupHangs.output, /^✔ dist\/test\/fixtures\/runner\/passes\.js 1 passed, 0 failed/m);
    assert.equal(lastLine(setupHangs.output), '1 passed, 1 failed');
  });

  test('a file whose setup never finishes leaves nothing running', async () => {
    const started = /fixture: waiting forever, with the local host at http:\/\/127\.0\.0\.1:(\d+)/.exec(setupHangs.output);
    assert.ok(started !== null, `the fixture said what it started:\n${setupHangs.output}`);
    assert.equal(await isPortTaken(Number(started[1])), false, 'the local host was stopped');
  });
});
