import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bicepPath, parseDiagnostics, pinnedVersion, runtimeId } from '../../scripts/infra/bicepCli';

describe('the Bicep CLI helper of npm run infra:check', () => {
  it('reads compiler and linter diagnostics, warnings included, from Bicep\'s output', () => {
    const output = [
      '/repo/infra/resources.bicep(65,19) : Warning BCP081: Resource type "Microsoft.ManagedIdentity/userAssignedIdentities@2099-11-30" does not have types available. [https://aka.ms/bicep/core-diagnostics#BCP081]',
      '/repo/infra/resources.bicep(43,5) : Error no-unused-vars: Variable "unusedThing" is declared but never used. [https://aka.ms/bicep/linter-diagnostics#no-unused-vars]',
      'some other line',
    ].join('\n');
    assert.deepEqual(
      parseDiagnostics(output).map(({ file, line, column, level, code }) => ({ file, line, column, level, code })),
      [
        { file: '/repo/infra/resources.bicep', line: 65, column: 19, level: 'Warning', code: 'BCP081' },
        { file: '/repo/infra/resources.bicep', line: 43, column: 5, level: 'Error', code: 'no-unused-vars' },
      ],
    );
  });

  it('takes the pinned version from infra/tools/bicep.proj and refuses a floating one', () => {
    assert.equal(pinnedVersion(), '0.49.2');
    assert.throws(() => pinnedVersion('<PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="0.49.2" />'), /pins no/);
  });

  it('finds the binary where NuGet restores the package for this machine', () => {
    assert.equal(runtimeId('linux', 'x64'), 'linux-x64');
    assert.equal(runtimeId('win32', 'arm64'), 'win-arm64');
    assert.equal(
      bicepPath('0.49.2', 'linux-x64', { NUGET_PACKAGES: '/cache/nuget' }),
      path.join('/cache/nuget', 'azure.bicep.commandline.linux-x64', '0.49.2', 'tools', 'bicep'),
    );
    assert.match(bicepPath('0.49.2', 'win-x64', { NUGET_PACKAGES: '/cache/nuget' }), /bicep\.exe$/);
  });
});
