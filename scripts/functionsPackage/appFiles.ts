import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/**
 * The files of a function app folder that go into its deployment package:
 * everything except what `.funcignore` (gitignore syntax, as azd reads it)
 * excludes. Symbolic links (node_modules/.bin) are left out: the Functions
 * host runs no package binaries, and a zip keeps no links.
 */

export function funcignoreRules(appRoot: string, extraRules: readonly string[] = []): Ignore {
  const rules = ignore();
  try {
    rules.add(readFileSync(path.join(appRoot, '.funcignore'), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return rules.add([...extraRules]);
}

/** Relative, '/'-separated paths of the files `rules` keeps, sorted. */
export function listAppFiles(appRoot: string, rules: Ignore): string[] {
  const files: string[] = [];
  const visit = (relativeFolder: string): void => {
    for (const entry of readdirSync(path.join(appRoot, relativeFolder), { withFileTypes: true })) {
      const relative = relativeFolder === '' ? entry.name : `${relativeFolder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!rules.ignores(`${relative}/`)) visit(relative);
      } else if (entry.isFile() && !rules.ignores(relative)) {
        files.push(relative);
      }
    }
  };
  visit('');
  return files.sort();
}
