import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs every compiled `*.test.js` under dist/test with Node's test runner.
 * `node --test dist/test/` would also run fixtures and support files as tests
 * (Node 20 counts every .js under a `test` folder), and Node 20 has no globs.
 */
const testRoot = join(__dirname, '..', 'test');
const files = readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .sort()
  .map((file) => join(testRoot, file));

const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
