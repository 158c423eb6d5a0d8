import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeApp } from '../localHost/app';
import { funcignoreRules, listAppFiles } from './appFiles';
import { deploymentPackageJson } from './deploymentPackageJson';
import { FunctionsPackageError } from './functionsPackageError';
import { installProductionDependencies } from './productionDependencies';
import { zipFiles } from './zipFiles';

/**
 * The function app's deployment package, prebuilt: the project's files that
 * `.funcignore` keeps (host.json, package.json, dist/ without tests and
 * tooling, the console bundle), its production dependencies installed from
 * package-lock.json, and nothing else. Azure runs it as uploaded (no remote
 * build), so what the package test starts is what runs in Azure.
 */

export interface FunctionsPackage {
  readonly zipPath: string;
  /** The unzipped package, as it was zipped. */
  readonly folder: string;
  readonly fileCount: number;
  readonly zipBytes: number;
}

export function buildFunctionsPackage(projectRoot: string, outDir: string): FunctionsPackage {
  const installFolder = path.join(outDir, 'install');
  const folder = path.join(outDir, 'app');
  const zipPath = path.join(outDir, 'functions.zip');
  const projectRules = funcignoreRules(projectRoot, ['/node_modules/', ...excludeIfInside(projectRoot, outDir)]);
  const projectFiles = listAppFiles(projectRoot, projectRules);
  for (const required of ['host.json', 'package.json', 'package-lock.json']) {
    if (!projectFiles.includes(required)) throw new FunctionsPackageError(`${required} is missing from the project or excluded by .funcignore`);
  }

  rmSync(installFolder, { recursive: true, force: true });
  for (const file of projectFiles) copyInto(projectRoot, installFolder, file);
  assertFunctionsPresent(installFolder);
  installProductionDependencies(installFolder);
  const projectPackageJson = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(installFolder, 'package.json'), `${JSON.stringify(deploymentPackageJson(projectPackageJson), null, 2)}\n`);
  // It names the dev dependencies too; node_modules/.package-lock.json records what is installed.
  rmSync(path.join(installFolder, 'package-lock.json'));

  // The same rules over the installed tree, as azd applies them to the folder it zips;
  // app/ then holds exactly what the zip holds, for azd to upload as it is (dist: build/functions/app).
  const packagedFiles = listAppFiles(installFolder, funcignoreRules(projectRoot));
  rmSync(folder, { recursive: true, force: true });
  for (const file of packagedFiles) copyInto(installFolder, folder, file);
  rmSync(installFolder, { recursive: true, force: true });
  const zip = zipFiles(folder, packagedFiles);
  writeFileSync(zipPath, zip);
  return { zipPath, folder, fileCount: packagedFiles.length, zipBytes: zip.length };
}

function copyInto(fromRoot: string, toRoot: string, relative: string): void {
  const target = path.join(toRoot, ...relative.split('/'));
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(path.join(fromRoot, ...relative.split('/')), target);
}

/** package.json `main` must name compiled function files that made it into the package. */
function assertFunctionsPresent(folder: string): void {
  try {
    describeApp(folder);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FunctionsPackageError(`the package has no functions (run npm run build first?): ${reason}`);
  }
  if (!existsSync(path.join(folder, 'dist', 'console', 'index.html'))) {
    throw new FunctionsPackageError('the console bundle dist/console/ is missing (run npm run build first)');
  }
}

/** A gitignore rule for `outDir` when it lies inside the project, so a package never contains the previous one. */
function excludeIfInside(projectRoot: string, outDir: string): string[] {
  const relative = path.relative(projectRoot, outDir);
  if (relative === '') throw new FunctionsPackageError('the output folder cannot be the project folder itself');
  if (relative.startsWith('..') || path.isAbsolute(relative)) return [];
  return [`/${relative.split(path.sep).join('/')}/`];
}
