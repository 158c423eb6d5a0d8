import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';

/**
 * azd's `prepackage` hook for the function service: builds the deployment package with
 * `npm run package:functions` (the zip the package test starts on its own) and unpacks it
 * into the folder azure.yaml names as the service's `dist`. azd zips a folder for a
 * JavaScript/TypeScript service (it cannot be handed a zip), so it re-zips exactly these
 * files; with `remoteBuild: false` it keeps their node_modules and uploads them as they are.
 */

export const appRoot = path.resolve(__dirname, '..', '..', '..');
/** azure.yaml `services.api.dist`. */
export const stagingDir = path.join(appRoot, '.azd-package');

export class StagingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StagingError';
  }
}

/** `npm run package:functions` prints the zip's path on its last line. */
export function zipPathFrom(stdout: string, cwd: string): string {
  const last = stdout.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '').pop();
  if (last === undefined || !last.toLowerCase().endsWith('.zip')) {
    throw new StagingError(`npm run package:functions did not end with the path of a zip (last line: "${last ?? ''}")`);
  }
  return path.resolve(cwd, last);
}

/** Writes the zip's files under `dir` (emptied first); refuses an entry that would land outside it. */
export function unpackInto(zip: Uint8Array, dir: string): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let count = 0;
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    if (name.endsWith('/')) continue;
    const target = path.resolve(dir, name);
    if (!target.startsWith(dir + path.sep)) throw new StagingError(`the package has an entry outside its folder: ${name}`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, bytes);
    count += 1;
  }
  return count;
}

function main(): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', 'package:functions'], {
    cwd: appRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(result.stdout ?? '');
  if (result.error !== undefined) throw new StagingError(`could not run npm: ${result.error.message}`);
  if (result.status !== 0) throw new StagingError(`npm run package:functions failed (exit ${String(result.status)})`);
  const zipPath = zipPathFrom(result.stdout, appRoot);
  const files = unpackInto(readFileSync(zipPath), stagingDir);
  console.log(`[azd] unpacked ${path.relative(appRoot, zipPath)} (${files} files) into ${path.relative(appRoot, stagingDir)}/ for azd to deploy`);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    if (!(error instanceof StagingError)) throw error;
    console.error(`[azd] ${error.message}`);
    process.exitCode = 1;
  }
}
