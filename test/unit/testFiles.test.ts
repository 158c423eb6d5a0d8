import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { findTestFiles } from '../../scripts/testRunner/testFiles';

/** The runner's reading of the marker lines in the compiled test files themselves. */
const testRoot = path.join(__dirname, '..');

describe('which lane and bound each test file gets', () => {
  test('a file that names a longer timeout gets it; the others keep the run bound', () => {
    const [audience, docs] = findTestFiles(testRoot, ['e2e/audience.test.js', 'unit/docs.test.js']);
    assert.deepEqual([audience?.lane, audience?.timeoutSeconds], ['process', 1800]);
    assert.deepEqual([docs?.lane, docs?.timeoutSeconds], ['unit', undefined]);
  });

  test('a file marked to run alone runs in the alone lane', () => {
    const [processes] = findTestFiles(testRoot, ['e2e/queuedNotificationsProcesses.test.js']);
    assert.equal(processes?.lane, 'alone');
  });
});
