import { spawnSync } from 'node:child_process';
import { FunctionsPackageError } from './functionsPackageError';

/**
 * Installs the production dependencies named by package-lock.json into
 * `folder`/node_modules, as `npm ci --omit=dev` does, without running any
 * package's install script (the app needs none; a dependency that did would
 * fail the package's start-up test). The npm cache serves what it has.
 */
export function installProductionDependencies(folder: string): void {
  const [command, prefix] = npmCommand();
  const result = spawnSync(
    command,
    [...prefix, 'ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: folder, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, npm_config_update_notifier: 'false' } },
  );
  if (result.error !== undefined) throw new FunctionsPackageError(`could not run npm: ${result.error.message}`);
  if (result.status !== 0) throw new FunctionsPackageError(`npm ci --omit=dev failed in ${folder} (exit ${result.status ?? result.signal})`);
}

/** The npm that started this script (`npm run …` sets npm_execpath), else npm from PATH. */
function npmCommand(): [string, string[]] {
  const npmCli = process.env.npm_execpath;
  if (npmCli !== undefined && /npm-cli\.js$/.test(npmCli)) return [process.execPath, [npmCli]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
}
