import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BicepToolError, appRoot, ensureBicep, parseDiagnostics, pinnedVersion, runBicep, type Diagnostic } from './bicepCli';

/**
 * `npm run infra:check`: with the pinned Bicep CLI (restored when missing),
 * - `bicep build infra/main.bicep` must reproduce the committed infra/main.json byte for byte;
 * - `bicep lint` of every infra/*.bicep must be clean.
 * Any warning fails, not only errors: bicepconfig.json raises the linter's rules to errors, but
 * the compiler's own warnings (BCP081 unknown type or API version, BCP037/BCP089 unknown
 * property, BCP036 wrong type...) have no level setting in Bicep 0.49, so they are counted here.
 *
 * `npm run infra:build` writes infra/main.json instead of comparing it.
 */

const infraDir = path.join(appRoot, 'infra');
const mainBicep = path.join(infraDir, 'main.bicep');
const mainJson = path.join(infraDir, 'main.json');

function describe(diagnostic: Diagnostic): string {
  return `${path.relative(appRoot, diagnostic.file)}(${diagnostic.line},${diagnostic.column}) : ${diagnostic.level} ${diagnostic.code}: ${diagnostic.message}`;
}

function failures(stderr: string): Diagnostic[] {
  return parseDiagnostics(stderr).filter((diagnostic) => diagnostic.level !== 'Info');
}

function main(mode: 'check' | 'build'): number {
  const bicep = ensureBicep();
  const version = runBicep(bicep, ['--version']);
  const expected = pinnedVersion();
  if (!version.stdout.includes(`version ${expected} `)) throw new BicepToolError(`${bicep} reports "${version.stdout.trim()}", expected ${expected}`);
  console.log(`[bicep] ${version.stdout.trim()}`);
  let problems = 0;

  const build = runBicep(bicep, ['build', mainBicep, '--stdout']);
  for (const diagnostic of parseDiagnostics(build.stderr)) console.log(`[bicep] build: ${describe(diagnostic)}`);
  problems += failures(build.stderr).length;
  if (build.status !== 0) {
    console.log(`[bicep] build failed (exit ${build.status}):\n${build.stderr}`);
    return 1;
  }
  if (mode === 'build') {
    writeFileSync(mainJson, build.stdout);
    console.log(`[bicep] wrote ${path.relative(appRoot, mainJson)}`);
  } else if (readFileSync(mainJson, 'utf8') !== build.stdout) {
    console.log(`[bicep] ${path.relative(appRoot, mainJson)} is not what ${path.relative(appRoot, mainBicep)} compiles to: run npm run infra:build and commit it`);
    problems += 1;
  } else {
    console.log(`[bicep] build: ${path.relative(appRoot, mainJson)} matches ${path.relative(appRoot, mainBicep)}`);
  }

  for (const file of readdirSync(infraDir).filter((name) => name.endsWith('.bicep')).sort()) {
    const lint = runBicep(bicep, ['lint', path.join(infraDir, file)]);
    const found = parseDiagnostics(lint.stderr);
    for (const diagnostic of found) console.log(`[bicep] lint: ${describe(diagnostic)}`);
    const failed = failures(lint.stderr).length;
    problems += failed;
    if (lint.status !== 0 && failed === 0) {
      console.log(`[bicep] lint ${file} failed (exit ${lint.status}):\n${lint.stderr}`);
      problems += 1;
    }
    if (found.length === 0 && lint.status === 0) console.log(`[bicep] lint: infra/${file} is clean`);
  }
  console.log(problems === 0 ? '[bicep] infra is clean' : `[bicep] ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

const mode = process.argv[2] === 'build' ? 'build' : 'check';
try {
  process.exitCode = main(mode);
} catch (error) {
  if (!(error instanceof BicepToolError)) throw error;
  console.error(`[bicep] ${error.message}`);
  process.exitCode = 1;
}
