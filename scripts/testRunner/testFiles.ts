import { closeSync, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';

/**
 * The compiled test files (`*.test.js` under dist/test), and which lane each
 * runs in. `node --test dist/test/` would also run fixtures and support
 * files as tests (Node 20 counts every .js under a `test` folder), and Node
 * 20 has no globs.
 */

export type Lane =
  /** test/unit: no I/O, no servers, no child processes: many files at once. */
  | 'unit'
  /** Everything else starts Azurite, servers, app hosts or a browser: a few files at once. */
  | 'process'
  /**
   * Files that measure rates or timing across processes and say so with a line
   * `// runTests: alone`: one at a time, after the others, with the machine to themselves.
   */
  | 'alone';

export interface TestFile {
  readonly path: string;
  /** Relative to dist/test, with forward slashes: `e2e/console.test.js`. */
  readonly name: string;
  readonly lane: Lane;
  /**
   * A bound longer than the run's, for a file that says `// runTests: timeout=<seconds>` (one that sends
   * to thousands through the local host at Teams' pace): the run's bound applies when it is longer.
   */
  readonly timeoutSeconds?: number;
}

/**
 * Every test file, or those the selectors name. A selector is a folder under
 * test/ (`unit`, `e2e`), a test file (`test/e2e/console.test.ts`,
 * `dist/test/e2e/console.test.js`, `e2e/console.test.js`), or the path of any
 * other file to run as a test file (the runner's own tests run fixtures so).
 */
export function findTestFiles(testRoot: string, selectors: readonly string[]): TestFile[] {
  const all = readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => file.endsWith('.test.js'))
    .sort();
  if (selectors.length === 0) return all.map((name) => testFile(testRoot, name));
  const chosen = new Map<string, TestFile>();
  for (const selector of selectors) {
    const matches = matching(all, selector);
    if (matches.length > 0) for (const name of matches) chosen.set(name, testFile(testRoot, name));
    else if (existsSync(selector)) chosen.set(path.resolve(selector), { path: path.resolve(selector), name: path.relative(process.cwd(), selector), lane: 'process' });
    else throw new Error(`no test file matches "${selector}" (a folder under test/, such as unit or e2e, or a test file)`);
  }
  return [...chosen.values()];
}

function matching(all: readonly string[], selector: string): string[] {
  const wanted = selector
    .split(path.sep)
    .join('/')
    .replace(/^\.\//, '')
    .replace(/^dist\//, '')
    .replace(/^test\//, '')
    .replace(/\.ts$/, '.js')
    .replace(/\/$/, '');
  return all.filter((name) => name === wanted || name.startsWith(`${wanted}/`));
}

function testFile(testRoot: string, name: string): TestFile {
  const file = path.join(testRoot, name);
  const opening = openingOf(file);
  const timeout = timeoutMarker.exec(opening);
  return {
    path: file,
    name,
    lane: aloneMarker.test(opening) ? 'alone' : name.startsWith('unit/') ? 'unit' : 'process',
    ...(timeout === null ? {} : { timeoutSeconds: Number(timeout[1]) }),
  };
}

const aloneMarker = /^\/\/ runTests: alone$/m;
const timeoutMarker = /^\/\/ runTests: timeout=(\d+)$/m;

/** The file's opening, where its marker lines go (above or below its imports). */
function openingOf(file: string): string {
  const descriptor = openSync(file, 'r');
  try {
    const opening = Buffer.alloc(4_096);
    const length = readSync(descriptor, opening, 0, opening.length, 0);
    return opening.subarray(0, length).toString('utf8');
  } finally {
    closeSync(descriptor);
  }
}
