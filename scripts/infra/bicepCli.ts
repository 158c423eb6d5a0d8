import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * The Bicep CLI this project pins: the NuGet package Azure.Bicep.CommandLine.<runtime>,
 * restored by infra/tools/bicep.proj (a PackageDownload, so nothing is built) into the
 * NuGet package folder. Its version is the one in that project file.
 */

export const appRoot = path.resolve(__dirname, '..', '..', '..');
export const toolProject = path.join(appRoot, 'infra', 'tools', 'bicep.proj');

/** The .NET and Bicep CLIs read this; without it they need libicu, which slim images lack. */
const dotnetEnv = { DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };

export class BicepToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BicepToolError';
  }
}

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly level: 'Error' | 'Warning' | 'Info';
  readonly code: string;
  readonly message: string;
}

/** Bicep's default diagnostics format: `<file>(<line>,<column>) : <Level> <code>: <message>`. */
export function parseDiagnostics(output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const line of output.split(/\r?\n/)) {
    const match = /^(.*)\((\d+),(\d+)\) : (Error|Warning|Info) ([A-Za-z0-9-]+): (.*)$/.exec(line);
    if (match === null) continue;
    const [, file, row, column, level, code, message] = match as unknown as [string, string, string, string, Diagnostic['level'], string, string];
    diagnostics.push({ file, line: Number(row), column: Number(column), level, code, message });
  }
  return diagnostics;
}

/** The version pinned in infra/tools/bicep.proj (`Version="[0.49.2]"`). */
export function pinnedVersion(projectText = readFileSync(toolProject, 'utf8')): string {
  const match = /Azure\.Bicep\.CommandLine\.[^"]*"\s+Version="\[([0-9.]+)\]"/.exec(projectText);
  if (match?.[1] === undefined) throw new BicepToolError(`${toolProject} pins no Azure.Bicep.CommandLine version as Version="[x.y.z]"`);
  return match[1];
}

/** NuGet's runtime id for this machine, as the Bicep packages are named. */
export function runtimeId(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = platform === 'win32' ? 'win' : platform === 'darwin' ? 'osx' : platform === 'linux' ? 'linux' : undefined;
  const cpu = arch === 'x64' ? 'x64' : arch === 'arm64' ? 'arm64' : undefined;
  if (os === undefined || cpu === undefined) throw new BicepToolError(`no Bicep CLI package for ${platform}/${arch}`);
  return `${os}-${cpu}`;
}

export function bicepPath(version: string, runtime: string, env: NodeJS.ProcessEnv = process.env): string {
  const packages = env.NUGET_PACKAGES?.trim() || path.join(homedir(), '.nuget', 'packages');
  return path.join(packages, `azure.bicep.commandline.${runtime}`, version, 'tools', runtime.startsWith('win') ? 'bicep.exe' : 'bicep');
}

/** The pinned Bicep CLI, restored from NuGet when it is missing. */
export function ensureBicep(log: (line: string) => void = console.log): string {
  const version = pinnedVersion();
  const runtime = runtimeId();
  const binary = bicepPath(version, runtime);
  if (!existsSync(binary)) {
    log(`[bicep] restoring Bicep CLI ${version} (${runtime}) from NuGet: dotnet restore ${path.relative(appRoot, toolProject)}`);
    const restore = run('dotnet', ['restore', toolProject, `-p:BicepRuntime=${runtime}`, '--verbosity', 'quiet']);
    if (restore.error !== undefined) throw new BicepToolError(`could not run dotnet (the .NET SDK restores the Bicep CLI): ${restore.error.message}`);
    if (restore.status !== 0) throw new BicepToolError(`dotnet restore failed:\n${restore.stdout}${restore.stderr}`);
    if (!existsSync(binary)) throw new BicepToolError(`dotnet restore succeeded but ${binary} is not there`);
  }
  // NuGet does not keep the executable bit.
  if (process.platform !== 'win32') chmodSync(binary, 0o755);
  return binary;
}

export function runBicep(binary: string, args: readonly string[]): SpawnSyncReturns<string> {
  const result = run(binary, args);
  if (result.error !== undefined) throw new BicepToolError(`could not run ${binary}: ${result.error.message}`);
  return result;
}

function run(command: string, args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: appRoot, encoding: 'utf8', env: { ...process.env, ...dotnetEnv }, maxBuffer: 64 * 1024 * 1024 });
}
