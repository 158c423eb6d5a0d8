import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestFile } from './testFiles';

/**
 * How long each test file took last time, so the next run starts the longest
 * ones first: with a few files at once, a long file started last would
 * leave the run waiting on it alone. Kept under node_modules/.cache (never
 * committed; a fresh clone starts without it and orders by folder).
 */

export type Durations = Readonly<Record<string, number>>;

const historyPath = path.join(__dirname, '..', '..', '..', 'node_modules', '.cache', 'proactive-notifications-bot', 'test-durations.json');

export function readDurations(): Durations {
  try {
    return JSON.parse(readFileSync(historyPath, 'utf8')) as Durations;
  } catch {
    return {};
  }
}

export function saveDurations(previous: Durations, measured: Readonly<Record<string, number>>): void {
  try {
    mkdirSync(path.dirname(historyPath), { recursive: true });
    writeFileSync(historyPath, `${JSON.stringify({ ...previous, ...measured }, null, 2)}\n`);
  } catch {
    // Only an ordering hint: a read-only checkout runs in folder order.
  }
}

/** Without a history, end-to-end files first (they take longest), then integration, then the rest. */
const folderOrder = ['e2e/', 'integration/', 'functions/'];

/** The files, longest first. */
export function longestFirst(files: readonly TestFile[], durations: Durations): TestFile[] {
  const folderRank = (file: TestFile): number => {
    const rank = folderOrder.findIndex((folder) => file.name.startsWith(folder));
    return rank === -1 ? folderOrder.length : rank;
  };
  return [...files].sort((a, b) => {
    const [da, db] = [durations[a.name], durations[b.name]];
    if (da !== undefined && db !== undefined) return db - da;
    if (da !== undefined || db !== undefined) return da === undefined ? -1 : 1;
    return folderRank(a) - folderRank(b) || a.name.localeCompare(b.name);
  });
}
