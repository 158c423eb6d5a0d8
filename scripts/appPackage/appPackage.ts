import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { asObject, readJsonObject } from '../localHost/app';

/**
 * The Teams app package: appPackage/manifest.json with `${{MicrosoftAppId}}`
 * filled in, and the icons it names, zipped flat as Teams expects.
 */

export const appPackageDir = path.resolve(__dirname, '..', '..', '..', 'appPackage');

/** A package that cannot be built as configured; the message says what to change. */
export class AppPackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppPackageError';
  }
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const placeholderPattern = /\$\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/**
 * The bot's app id as `npm start` would see it: the environment first, then
 * local.settings.json's Values (like func). It becomes the Teams app id too.
 */
export function appIdFrom(env: Readonly<Record<string, string | undefined>>, localSettingsPath: string): string {
  const fromEnv = env.MicrosoftAppId?.trim();
  const fromFile = asObject(readJsonObject(localSettingsPath).Values)?.MicrosoftAppId;
  const appId = fromEnv || (typeof fromFile === 'string' ? fromFile.trim() : '');
  if (appId === '') {
    throw new AppPackageError(
      `MicrosoftAppId is not set (in the environment or in ${localSettingsPath}): the Teams app package needs your bot's app id`,
    );
  }
  if (!guidPattern.test(appId)) {
    throw new AppPackageError(`MicrosoftAppId must be the bot's app id, a GUID such as 00000000-0000-0000-0000-000000000000, got "${appId}"`);
  }
  return appId;
}

/** The manifest text with every `${{MicrosoftAppId}}` replaced; any other placeholder is refused. */
export function fillManifest(template: string, appId: string): string {
  return template.replace(placeholderPattern, (_match, name: string) => {
    if (name !== 'MicrosoftAppId') throw new AppPackageError(`manifest.json has a placeholder \${{${name}}} this script does not fill (only \${{MicrosoftAppId}})`);
    return appId;
  });
}

/** The zip's bytes: manifest.json and the icons it names, from `dir`. */
export function buildAppPackage(dir: string, appId: string): Uint8Array {
  const manifestText = fillManifest(readFileSync(path.join(dir, 'manifest.json'), 'utf8'), appId);
  const icons = asObject(asObject(JSON.parse(manifestText) as unknown)?.icons) ?? {};
  const files: Record<string, Uint8Array> = { 'manifest.json': Buffer.from(manifestText, 'utf8') };
  for (const [kind, file] of Object.entries(icons)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
      throw new AppPackageError(`manifest.json icons.${kind} must name a file beside manifest.json`);
    }
    const iconPath = path.join(dir, file);
    if (!existsSync(iconPath)) throw new AppPackageError(`manifest.json icons.${kind} names ${file}, which is not in ${dir}`);
    files[file] = readFileSync(iconPath);
  }
  return zipSync(files, { level: 9 });
}
