import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { fillManifest } from '../../scripts/appPackage/appPackage';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const packageScript = path.join(repoRoot, 'dist', 'scripts', 'appPackage', 'package.js');
const botId = '6f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b';

/** Validates a manifest offline against the Teams schema that @microsoft/app-manifest ships for its manifestVersion. */
function schemaErrors(manifest: { manifestVersion?: unknown }): string[] {
  const schemaPath = require.resolve(`@microsoft/app-manifest/build/json-schemas/teams/v${String(manifest.manifestVersion)}/MicrosoftTeams.schema.json`);
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
  return validate(manifest) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

function pngOf(bytes: Uint8Array | undefined, name: string): PNG {
  assert.ok(bytes, `${name} is in the package`);
  return PNG.sync.read(Buffer.from(bytes));
}

/** Runs `npm run package`'s script with only the given settings (no MicrosoftAppId from this process). */
async function packageWith(env: Record<string, string>, args: string[]): Promise<{ code: number; output: string }> {
  const { MicrosoftAppId: _ignored, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, [packageScript, ...args], { env: { ...inherited, ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('Teams app package', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'app-package-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has a manifest that, with the bot id filled in, is valid against the Teams schema of its manifestVersion', () => {
    const template = readFileSync(path.join(repoRoot, 'appPackage', 'manifest.json'), 'utf8');
    const manifest = JSON.parse(fillManifest(template, botId)) as { manifestVersion: string };
    assert.deepEqual(schemaErrors(manifest), []);
  });

  it('shows that the schema check catches a broken manifest', () => {
    const template = readFileSync(path.join(repoRoot, 'appPackage', 'manifest.json'), 'utf8');
    const manifest = JSON.parse(fillManifest(template, 'not-a-guid')) as Record<string, unknown>;
    delete manifest.accentColor;
    const errors = schemaErrors(manifest as { manifestVersion: string });
    assert.ok(errors.some((error) => /^\/id /.test(error)), errors.join('; '));
    assert.ok(errors.some((error) => /accentColor/.test(error)), errors.join('; '));
  });

  it('writes a zip with the manifest (the bot id from local.settings.json filled in) and both icons at the sizes Teams requires', async () => {
    const settings = path.join(dir, 'local.settings.json');
    await writeFile(settings, JSON.stringify({ IsEncrypted: false, Values: { MicrosoftAppId: botId } }));
    const out = path.join(dir, 'app.zip');
    const result = await packageWith({}, ['--settings', settings, '--out', out]);
    assert.equal(result.code, 0, result.output);

    const files = unzipSync(readFileSync(out));
    assert.deepEqual(Object.keys(files).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const manifestText = Buffer.from(files['manifest.json'] ?? []).toString('utf8');
    assert.ok(!manifestText.includes('${{'), 'no placeholder is left');
    const manifest = JSON.parse(manifestText) as {
      manifestVersion: string;
      id: string;
      icons: { color: string; outline: string };
      bots: { botId: string; scopes: string[] }[];
    };
    assert.equal(manifest.id, botId);
    assert.equal(manifest.bots[0]?.botId, botId);
    assert.deepEqual(manifest.bots[0]?.scopes, ['personal', 'team', 'groupChat']);
    assert.deepEqual(schemaErrors(manifest), []);

    const color = pngOf(files[manifest.icons.color], 'the color icon');
    assert.deepEqual([color.width, color.height], [192, 192]);
    const outline = pngOf(files[manifest.icons.outline], 'the outline icon');
    assert.deepEqual([outline.width, outline.height], [32, 32]);
    let opaque = 0;
    let transparent = 0;
    for (let at = 0; at < outline.data.length; at += 4) {
      const [r, g, b, alpha] = outline.data.subarray(at, at + 4);
      if (alpha !== 0) assert.deepEqual([r, g, b], [255, 255, 255], `outline pixel ${at / 4} is white`);
      if (alpha === 255) opaque += 1;
      if (alpha === 0) transparent += 1;
    }
    assert.ok(opaque > 50 && transparent > 50, `the outline is a white shape on transparent (${opaque} opaque, ${transparent} transparent pixels)`);
  });

  it('takes MicrosoftAppId from the environment over local.settings.json, as npm start does', async () => {
    const settings = path.join(dir, 'other.settings.json');
    await writeFile(settings, JSON.stringify({ Values: { MicrosoftAppId: '00000000-0000-0000-0000-000000000001' } }));
    const out = path.join(dir, 'from-env.zip');
    const result = await packageWith({ MicrosoftAppId: botId }, ['--settings', settings, '--out', out]);
    assert.equal(result.code, 0, result.output);
    const manifest = JSON.parse(Buffer.from(unzipSync(readFileSync(out))['manifest.json'] ?? []).toString('utf8')) as { id: string };
    assert.equal(manifest.id, botId);
  });

  for (const [description, appId, message] of [
    ['without a MicrosoftAppId', '', /MicrosoftAppId is not set/],
    ['with a MicrosoftAppId that is not a GUID', 'my-bot', /MicrosoftAppId must be the bot's app id, a GUID/],
  ] as const) {
    it(`refuses to package ${description}, says why and writes nothing`, async () => {
      const settings = path.join(dir, 'bad.settings.json');
      await writeFile(settings, JSON.stringify({ Values: { MicrosoftAppId: appId } }));
      const out = path.join(dir, `refused-${appId.length}.zip`);
      const result = await packageWith({}, ['--settings', settings, '--out', out]);
      assert.equal(result.code, 1);
      assert.match(result.output, message);
      assert.equal(existsSync(out), false);
    });
  }
});
