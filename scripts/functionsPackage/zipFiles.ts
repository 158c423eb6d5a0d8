import { readFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';

/**
 * Zips `files` (relative '/'-separated paths under `root`) with one fixed
 * timestamp, in sorted order: the same tree gives the same bytes.
 */
const fixedTime = new Date('2000-01-01T00:00:00Z');

export function zipFiles(root: string, files: readonly string[]): Uint8Array {
  const entries: Zippable = {};
  for (const file of [...files].sort()) {
    entries[file] = [readFileSync(path.join(root, ...file.split('/'))), { mtime: fixedTime }];
  }
  return zipSync(entries, { level: 6 });
}
