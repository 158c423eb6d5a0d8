import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { deploymentSummary, SummaryError } from '../../scripts/azd/deploySummary';
import { StagingError, stagingDir, unpackInto, zipPathFrom } from '../../scripts/azd/stageFunctionsPackage';

const root = path.resolve(__dirname, '..', '..', '..');
const azureYaml = readFileSync(path.join(root, 'azure.yaml'), 'utf8');
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

const outputs = {
  FUNCTION_APP_URL: 'https://func-abc.azurewebsites.net',
  AZURE_FUNCTION_APP_NAME: 'func-abc',
  AZURE_RESOURCE_GROUP: 'rg-dev',
  MicrosoftAppId: '11111111-2222-4333-a444-555555555555',
  BOT_RESOURCE_NAME: 'bot-abc',
};

describe('the azd hooks', () => {
  it('print the app\'s notify, notifications and console URLs, the messaging endpoint, and how to install the Teams package', () => {
    const text = deploymentSummary(outputs).join('\n');
    for (const route of ['/api/messages', '/api/notify', '/api/notifications', '/api/console']) assert.ok(text.includes(`https://func-abc.azurewebsites.net${route}`), route);
    assert.match(text, /az functionapp keys list --resource-group rg-dev --name func-abc/);
    assert.match(text, /appPackage[\\/]build[\\/]app\.zip \(built for bot 11111111-2222-4333-a444-555555555555/);
    assert.match(text, /Upload a custom app/);
  });

  it('say where to point an existing bot when the deployment created none', () => {
    assert.match(deploymentSummary({ ...outputs, BOT_RESOURCE_NAME: '' }).join('\n'), /no Azure Bot was created: set it as your existing bot's messaging endpoint/);
  });

  it('say which output is missing when the environment was never provisioned', () => {
    assert.throws(() => deploymentSummary({ ...outputs, FUNCTION_APP_URL: '' }), (error: unknown) => error instanceof SummaryError && /FUNCTION_APP_URL/.test(error.message));
  });

  it('take the deployment package from the last line npm run package:functions prints', () => {
    assert.equal(zipPathFrom('building...\n[package] 3 files\nbuild/functions.zip\n\n', '/app'), path.resolve('/app', 'build/functions.zip'));
    assert.throws(() => zipPathFrom('built it\n', '/app'), StagingError);
  });

  it('unpack the deployment package into an emptied folder, refusing entries that climb out of it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'azd-stage-'));
    try {
      const target = path.join(dir, 'stage');
      unpackInto(zipSync({ 'stale.txt': new Uint8Array([1]) }), target);
      const count = unpackInto(zipSync({ 'host.json': Buffer.from('{}'), 'dist/functions/a.js': Buffer.from('x') }), target);
      assert.equal(count, 2);
      assert.equal(readFileSync(path.join(target, 'dist', 'functions', 'a.js'), 'utf8'), 'x');
      assert.ok(!existsSync(path.join(target, 'stale.txt')), 'what an earlier package left is gone');
      assert.throws(() => unpackInto(zipSync({ '../escaped.txt': new Uint8Array([1]) }), target), StagingError);
      assert.ok(!existsSync(path.join(dir, 'escaped.txt')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are wired in azure.yaml to scripts that exist, and the service deploys the folder the package is unpacked into', () => {
    for (const [, script] of azureYaml.matchAll(/run: node (\S+\.js)/g)) assert.ok(existsSync(path.join(root, script as string)), `${String(script)} is built`);
    for (const [, name] of azureYaml.matchAll(/run: npm run (\S+)/g)) assert.ok(packageJson.scripts[name as string] !== undefined, `npm run ${String(name)} exists`);
    assert.match(azureYaml, new RegExp(`^\\s+dist: ${path.relative(root, stagingDir)}$`, 'm'));
    assert.match(azureYaml, /^\s+remoteBuild: false$/m, 'the unpacked node_modules are uploaded as they are');
    // azd finds the function app by its azd-service-name tag.
    const service = /^services:\n\s+(\S+):$/m.exec(azureYaml)?.[1];
    assert.ok(readFileSync(path.join(root, 'infra', 'main.json'), 'utf8').includes(`createObject('azd-service-name', '${String(service)}')`), `the function app is tagged azd-service-name ${String(service)}`);
  });
});

describe('infra/main.parameters.json', () => {
  const template = JSON.parse(readFileSync(path.join(root, 'infra', 'main.json'), 'utf8')) as { parameters: Record<string, { defaultValue?: unknown }> };
  const parameters = (JSON.parse(readFileSync(path.join(root, 'infra', 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: string }> }).parameters;

  it('gives azd\'s environment name, location and signed-in principal to the template, and every parameter without a default', () => {
    assert.equal(parameters.environmentName?.value, '${AZURE_ENV_NAME}');
    assert.equal(parameters.location?.value, '${AZURE_LOCATION}');
    assert.equal(parameters.principalId?.value, '${AZURE_PRINCIPAL_ID}');
    for (const [name, definition] of Object.entries(template.parameters)) {
      if (!('defaultValue' in definition)) assert.ok(name in parameters, `${name} has a value`);
    }
  });

  it('names only parameters the template declares, and no secret', () => {
    for (const name of Object.keys(parameters)) assert.ok(name in template.parameters, `${name} is declared`);
    assert.doesNotMatch(JSON.stringify(parameters), /PASSWORD|CLIENT_SECRET"|AccountKey/i);
  });
});
