import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppPackageError, appIdFrom, appPackageDir, buildAppPackage } from './appPackage';

/**
 * `npm run package`: writes appPackage/build/app.zip, the Teams app package
 * to upload in Teams (Apps → Manage your apps → Upload an app).
 *
 * Usage: package.js [--settings <local.settings.json>] [--out <zip>]
 */

const appRoot = path.resolve(__dirname, '..', '..', '..');

function parseArguments(argv: readonly string[]): { settingsPath: string; outPath: string } {
  const options = { settingsPath: path.join(appRoot, 'local.settings.json'), outPath: path.join(appPackageDir, 'build', 'app.zip') };
  for (let index = 0; index < argv.length; index += 2) {
    const [flag, value] = [argv[index], argv[index + 1]];
    if (flag === '--settings' && value !== undefined) options.settingsPath = path.resolve(value);
    else if (flag === '--out' && value !== undefined) options.outPath = path.resolve(value);
    else throw new AppPackageError(`unexpected arguments "${argv.join(' ')}" (usage: package.js [--settings <local.settings.json>] [--out <zip>])`);
  }
  return options;
}

try {
  const { settingsPath, outPath } = parseArguments(process.argv.slice(2));
  const appId = appIdFrom(process.env, settingsPath);
  const zip = buildAppPackage(appPackageDir, appId);
  mkdirSync(path.dirname(outPath), { recursive: true });
  writeFileSync(outPath, zip);
  console.log(`[package] wrote ${outPath} (${zip.length} bytes) for bot ${appId}`);
} catch (error) {
  if (!(error instanceof AppPackageError)) throw error;
  console.error(`[package] ${error.message}`);
  process.exitCode = 1;
}
