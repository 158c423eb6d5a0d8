import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadSettings, SettingsError, type Settings } from '../../shared/settings';
import { deployTemplate, placeholderGuid, type DeployedResource, type Deployment } from '../support/armDeployment';
import type { ArmValue } from '../support/armExpressions';
import { appRegistrations, type FunctionRegistration } from '../support/functionRegistrations';
import { queuesTheAppEnqueuesTo } from '../support/recordedQueueNames';

/**
 * infra/main.json (the compiled Bicep, committed) against the code: what the deployed app
 * needs, it gets. The template is evaluated offline (test/support/armDeployment.ts): values
 * only Azure knows become placeholders, the same for the same thing. Every check also runs
 * against a copy of the template broken in its own way, to show it can fail.
 */

const root = path.resolve(__dirname, '..', '..', '..');
const templateText = readFileSync(path.join(root, 'infra', 'main.json'), 'utf8');
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };

const scope = { subscriptionId: placeholderGuid('subscription'), tenantId: placeholderGuid('tenant') };
const managedIdentityParameters = { environmentName: 'infra-test', location: 'westeurope', principalId: placeholderGuid('deploying user') };
const existingRegistration = {
  appId: placeholderGuid('existing registration'),
  secretUri: 'https://kv-infra-test.vault.azure.net/secrets/bot-client-secret',
};

const roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
};

/** Settings Flex Consumption refuses or ignores: the runtime is functionAppConfig's, and there is no content share or time zone. */
const settingsFlexRefuses = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_TIME_ZONE',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
];

interface Code {
  readonly functions: readonly FunctionRegistration[];
  readonly routePrefix: string;
  readonly enqueuedQueues: readonly string[];
}

/** What one check needs: the template's text, what it deploys, and what the code registers and does. */
interface Subject {
  readonly text: string;
  readonly deployment: Deployment;
  readonly code: Code;
}

type Check = (subject: Subject) => void;

/** The deployment is evaluated when a check first asks for it, so a check of the text alone never depends on the evaluator. */
function subjectOf(text: string, parameters: Record<string, ArmValue>, code: Code): Subject {
  let deployment: Deployment | undefined;
  return {
    text,
    code,
    get deployment() {
      deployment ??= deployTemplate(JSON.parse(text) as Record<string, unknown>, parameters, scope);
      return deployment;
    },
  };
}

// ------------------------------------------------------------ reading the deployment

function deployed(deployment: Deployment, type: string): DeployedResource[] {
  return deployment.resources.filter((resource) => resource.deployed && resource.type.toLowerCase() === type.toLowerCase());
}

function single(deployment: Deployment, type: string): DeployedResource {
  const found = deployed(deployment, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0] as DeployedResource;
}

function property(value: ArmValue | undefined, ...keys: string[]): ArmValue | undefined {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, ArmValue>)[key];
  }
  return current;
}

function functionApp(deployment: Deployment): DeployedResource {
  const sites = deployed(deployment, 'Microsoft.Web/sites').filter((site) => String(site.body.kind).includes('functionapp'));
  assert.equal(sites.length, 1, 'expected one function app');
  return sites[0] as DeployedResource;
}

function appSettings(deployment: Deployment): Record<string, string> {
  const list = property(functionApp(deployment).body.properties, 'siteConfig', 'appSettings');
  assert.ok(Array.isArray(list), 'the function app has an appSettings list');
  const settings: Record<string, string> = {};
  for (const entry of list) {
    const name = property(entry, 'name');
    const value = property(entry, 'value');
    assert.equal(typeof name, 'string', 'every app setting has a name');
    assert.ok(!(String(name) in settings), `app setting ${String(name)} is set once`);
    settings[String(name)] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return settings;
}

/** The app's one identity: the user-assigned identity the function app runs as. */
function appIdentity(deployment: Deployment): { resource: DeployedResource; clientId: string; principalId: string } {
  const resource = single(deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  return { resource, clientId: String(resource.runtime.clientId), principalId: String(resource.runtime.principalId) };
}

function storageAccount(deployment: Deployment): DeployedResource {
  return single(deployment, 'Microsoft.Storage/storageAccounts');
}

function endpoint(account: DeployedResource, service: 'blob' | 'queue' | 'table'): string {
  return String(property(account.runtime, 'primaryEndpoints', service));
}

function withoutTrailingSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}

function settingsOf(deployment: Deployment): Settings {
  return loadSettings(appSettings(deployment));
}

// ------------------------------------------------------------ the checks

const checks: Record<string, Check> = {
  'every setting the app reads is set, in a form loadSettings accepts: a managed-identity bot with identity-based storage'({ deployment }) {
    const settings = settingsOf(deployment);
    const identity = appIdentity(deployment);
    const account = storageAccount(deployment);
    assert.equal(settings.microsoftAppType, 'UserAssignedMSI');
    assert.equal(settings.microsoftAppId, identity.clientId, 'MicrosoftAppId is the identity\'s client id');
    assert.equal(settings.microsoftAppTenantId, scope.tenantId);
    assert.equal(settings.microsoftAppPassword, '', 'a managed-identity bot has no password');
    for (const connection of [settings.webJobsStorage, settings.conversationsStorage]) {
      assert.equal(connection.kind, 'identity', `${connection.setting} is identity-based`);
      if (connection.kind !== 'identity') continue;
      assert.deepEqual(connection.identity, { kind: 'managedIdentity', clientId: identity.clientId });
      assert.equal(connection.tableServiceUri, withoutTrailingSlash(endpoint(account, 'table')));
    }
    assert.equal(settings.webJobsStorage.kind === 'identity' && settings.webJobsStorage.queueServiceUri, withoutTrailingSlash(endpoint(account, 'queue')));
  },

  'the host and every queue trigger connect to storage as the user-assigned identity'({ deployment, code }) {
    const settings = appSettings(deployment);
    const identity = appIdentity(deployment);
    const account = storageAccount(deployment);
    const connections = new Set(['AzureWebJobsStorage', ...code.functions.filter((f) => f.triggerType === 'queuetrigger').map((f) => f.trigger.connection || 'AzureWebJobsStorage')]);
    for (const connection of connections) {
      assert.equal(settings[connection], undefined, `${connection} is not a connection string`);
      assert.equal(settings[`${connection}__credential`], 'managedidentity', `${connection}__credential`);
      assert.equal(settings[`${connection}__clientId`], identity.clientId, `${connection}__clientId is the identity's client id`);
      assert.equal(settings[`${connection}__queueServiceUri`], endpoint(account, 'queue'), `${connection}__queueServiceUri`);
    }
    assert.equal(settings.AzureWebJobsStorage__blobServiceUri, endpoint(account, 'blob'), 'the host keeps its keys and leases in blobs');
  },

  'telemetry goes to Application Insights with Entra ID auth, local auth off'({ deployment }) {
    const settings = appSettings(deployment);
    const identity = appIdentity(deployment);
    const insights = single(deployment, 'Microsoft.Insights/components');
    assert.equal(property(insights.body.properties, 'DisableLocalAuth'), true, 'Application Insights has local auth off');
    assert.equal(property(single(deployment, 'Microsoft.OperationalInsights/workspaces').body.properties, 'features', 'disableLocalAuth'), true, 'Log Analytics has local auth off');
    assert.equal(settings.APPLICATIONINSIGHTS_CONNECTION_STRING, insights.runtime.ConnectionString);
    assert.equal(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING, `Authorization=AAD;ClientId=${identity.clientId}`);
  },

  'no setting that Flex Consumption refuses is set'({ deployment }) {
    const settings = appSettings(deployment);
    for (const name of settingsFlexRefuses) assert.equal(settings[name], undefined, `${name} is not set on Flex Consumption`);
  },

  // Reads subject.deployment only after the text checks: a template that calls listKeys() is refused for it, not for what the evaluator makes of it.
  'no key, connection string with a key, password or secret appears in the template, its outputs or the app'(subject) {
    const { text } = subject;
    assert.doesNotMatch(text, /\blist[A-Za-z]*\(/, 'no listKeys() or other list*() call');
    assert.doesNotMatch(text, /AccountKey|SharedAccessSignature|SharedAccessKey/i, 'no connection string with a key');
    const template = JSON.parse(text) as Record<string, unknown>;
    const secure = (definitions: unknown): string[] =>
      Object.entries((definitions ?? {}) as Record<string, { type?: string }>)
        .filter(([, definition]) => /^secure/i.test(definition.type ?? ''))
        .map(([name]) => name);
    assert.deepEqual(secure(template.parameters), [], 'no secret goes in');
    assert.deepEqual(secure(template.outputs), [], 'no secret comes out');
    const { deployment } = subject;
    for (const name of Object.keys(deployment.outputs)) assert.doesNotMatch(name, /password|secret|key|connection/i, `output ${name}`);
    for (const value of Object.values(deployment.outputs)) assert.doesNotMatch(JSON.stringify(value), /InstrumentationKey|AccountKey|password/i);
    assert.equal(appSettings(deployment).MicrosoftAppPassword, undefined, 'no MicrosoftAppPassword with a managed identity');
    const site = functionApp(deployment);
    for (const kind of ['scm', 'ftp']) {
      const policy = deployed(deployment, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies').find((candidate) => candidate.name === `${site.name}/${kind}`);
      assert.equal(property(policy?.body.properties, 'allow'), false, `${kind} publishing with a password is off`);
    }
  },

  'every storage account has shared-key access off'({ deployment }) {
    const accounts = deployed(deployment, 'Microsoft.Storage/storageAccounts');
    assert.ok(accounts.length > 0);
    for (const account of accounts) assert.equal(property(account.body.properties, 'allowSharedKeyAccess'), false, `${account.name} allows shared keys`);
  },

  'the identity holds the blob, queue and table data roles on the account and Monitoring Metrics Publisher on Application Insights'({ deployment }) {
    const identity = appIdentity(deployment);
    const account = storageAccount(deployment);
    const insights = single(deployment, 'Microsoft.Insights/components');
    const assignments = deployed(deployment, 'Microsoft.Authorization/roleAssignments');
    const expected: [string, string, DeployedResource][] = [
      ['Storage Blob Data Owner', roles.storageBlobDataOwner, account],
      ['Storage Queue Data Contributor', roles.storageQueueDataContributor, account],
      ['Storage Table Data Contributor', roles.storageTableDataContributor, account],
      ['Monitoring Metrics Publisher', roles.monitoringMetricsPublisher, insights],
    ];
    for (const [roleName, roleId, target] of expected) {
      const roleDefinitionId = `/subscriptions/${scope.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
      const held = assignments.filter(
        (assignment) =>
          property(assignment.body.properties, 'principalId') === identity.principalId &&
          String(property(assignment.body.properties, 'roleDefinitionId')).toLowerCase() === roleDefinitionId.toLowerCase(),
      );
      assert.equal(held.length, 1, `the identity holds ${roleName} once`);
      assert.equal(String((held[0] as DeployedResource).body.scope).toLowerCase(), target.id.toLowerCase(), `${roleName} is on ${target.name}`);
      assert.equal(property((held[0] as DeployedResource).body.properties, 'principalType'), 'ServicePrincipal');
    }
  },

  'the function app runs on Flex Consumption with the Node version package.json names, deployed from its blob container as the identity'({ deployment }) {
    const site = functionApp(deployment);
    const identity = appIdentity(deployment);
    const account = storageAccount(deployment);
    const plan = single(deployment, 'Microsoft.Web/serverfarms');
    const config = property(site.body.properties, 'functionAppConfig');
    assert.deepEqual(plan.body.sku, { tier: 'FlexConsumption', name: 'FC1' });
    assert.equal(property(plan.body.properties, 'reserved'), true, 'a Linux plan');
    assert.equal(site.body.kind, 'functionapp,linux');
    assert.equal(property(site.body.properties, 'serverFarmId'), plan.id);
    assert.ok(Object.keys((property(site.body.identity, 'userAssignedIdentities') ?? {}) as object).includes(identity.resource.id), 'the identity is attached');
    assert.equal(property(config, 'runtime', 'name'), 'node');
    const engines = packageJson.engines?.node ?? '';
    const enginesMajor = /(\d+)/.exec(engines)?.[1];
    assert.equal(String(property(config, 'runtime', 'version')).split('.')[0], enginesMajor, `runtime version against engines.node "${engines}"`);
    const storage = property(config, 'deployment', 'storage');
    const containers = deployed(deployment, 'Microsoft.Storage/storageAccounts/blobServices/containers').filter((c) => c.name.startsWith(`${account.name}/`));
    assert.equal(property(storage, 'type'), 'blobContainer');
    assert.ok(
      containers.some((container) => `${endpoint(account, 'blob')}${container.name.split('/')[2] ?? ''}` === property(storage, 'value')),
      'the deployment container is one the template creates in the account',
    );
    assert.deepEqual(property(storage, 'authentication'), { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.resource.id });
    assert.deepEqual(property(config, 'scaleAndConcurrency'), { maximumInstanceCount: 100, instanceMemoryMB: 2048 }, 'the scale parameters reach the app');
  },

  'the bot\'s messaging endpoint is the app\'s messages function and its app id is the identity\'s client id'({ deployment, code }) {
    const bot = single(deployment, 'Microsoft.BotService/botServices');
    const identity = appIdentity(deployment);
    const messages = code.functions.find((registration) => registration.name === 'messages');
    assert.ok(messages !== undefined && messages.triggerType === 'httptrigger', 'the app has an HTTP function named messages');
    const route = messages.trigger.route ?? messages.name;
    const messagesPath = `/${[code.routePrefix, route].filter((part) => part !== '').join('/')}`;
    assert.equal(property(bot.body.properties, 'endpoint'), `https://${String(functionApp(deployment).runtime.defaultHostName)}${messagesPath}`);
    assert.equal(property(bot.body.properties, 'msaAppType'), 'UserAssignedMSI');
    assert.equal(property(bot.body.properties, 'msaAppId'), identity.clientId);
    assert.equal(property(bot.body.properties, 'msaAppMSIResourceId'), identity.resource.id);
    assert.equal(property(bot.body.properties, 'msaAppTenantId'), scope.tenantId);
  },

  'the bot has the Teams channel enabled'({ deployment }) {
    const bot = single(deployment, 'Microsoft.BotService/botServices');
    const channels = deployed(deployment, 'Microsoft.BotService/botServices/channels').filter((channel) => channel.name === `${bot.name}/MsTeamsChannel`);
    assert.equal(channels.length, 1, 'a MsTeamsChannel channel on the bot');
    const channel = channels[0] as DeployedResource;
    assert.equal(property(channel.body.properties, 'channelName'), 'MsTeamsChannel');
    assert.equal(property(channel.body.properties, 'properties', 'isEnabled'), true);
  },

  'the app enqueues only to queues its triggers listen on, and the template creates exactly those queues'({ deployment, code }) {
    const settings = appSettings(deployment);
    const account = storageAccount(deployment);
    const listened = code.functions
      .filter((registration) => registration.triggerType === 'queuetrigger')
      .map((registration) => String(registration.trigger.queueName).replace(/%([^%]+)%/g, (_match, name: string) => settings[name] ?? `%${name}%`).toLowerCase());
    for (const queue of code.enqueuedQueues) assert.ok(listened.includes(queue), `the app enqueues to ${queue}, which no trigger listens on`);
    const created = deployed(deployment, 'Microsoft.Storage/storageAccounts/queueServices/queues')
      .filter((queue) => queue.name.startsWith(`${account.name}/`))
      .map((queue) => queue.name.split('/')[2] ?? '');
    assert.deepEqual([...created].sort(), [...new Set(listened)].sort());
  },
};

/** A copy of the template broken one way, and the check that must then fail. */
const breakages: readonly { readonly check: string; readonly how: string; readonly from: string | RegExp; readonly to: string }[] = [
  { check: 'every setting the app reads is set, in a form loadSettings accepts: a managed-identity bot with identity-based storage', how: 'the bot set to MultiTenant', from: "'MicrosoftAppType', 'value', 'UserAssignedMSI'", to: "'MicrosoftAppType', 'value', 'MultiTenant'" },
  { check: 'every setting the app reads is set, in a form loadSettings accepts: a managed-identity bot with identity-based storage', how: 'no queue endpoint', from: "'AzureWebJobsStorage__queueServiceUri'", to: "'Unrelated__queueServiceUri'" },
  { check: 'the host and every queue trigger connect to storage as the user-assigned identity', how: 'no __credential', from: "'AzureWebJobsStorage__credential'", to: "'AzureWebJobsStorage__unused'" },
  { check: 'telemetry goes to Application Insights with Entra ID auth, local auth off', how: 'local auth on', from: '"DisableLocalAuth": true', to: '"DisableLocalAuth": false' },
  { check: 'telemetry goes to Application Insights with Entra ID auth, local auth off', how: 'no authentication string', from: "'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'", to: "'APPLICATIONINSIGHTS_AUTH'" },
  { check: 'no setting that Flex Consumption refuses is set', how: 'FUNCTIONS_WORKER_RUNTIME set', from: '"name": "NOTIFY_TIMER_MESSAGE"', to: '"name": "FUNCTIONS_WORKER_RUNTIME"' },
  { check: 'no key, connection string with a key, password or secret appears in the template, its outputs or the app', how: 'an output of listKeys()', from: '"outputs": {', to: '"outputs": { "storageKey": { "type": "string", "value": "[listKeys(\'x\', \'2023-01-01\').keys[0].value]" },' },
  { check: 'no key, connection string with a key, password or secret appears in the template, its outputs or the app', how: 'a secure output', from: /"MicrosoftAppId": \{\s*"type": "string"/, to: '"MicrosoftAppId": { "type": "securestring"' },
  { check: 'no key, connection string with a key, password or secret appears in the template, its outputs or the app', how: 'publishing passwords on', from: '"allow": false', to: '"allow": true' },
  { check: 'every storage account has shared-key access off', how: 'shared keys allowed', from: '"allowSharedKeyAccess": false', to: '"allowSharedKeyAccess": true' },
  { check: 'the identity holds the blob, queue and table data roles on the account and Monitoring Metrics Publisher on Application Insights', how: 'queue reader instead of contributor', from: '"storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88"', to: '"storageQueueDataContributor": "19e7f393-937e-4f77-808e-94535e297925"' },
  { check: 'the identity holds the blob, queue and table data roles on the account and Monitoring Metrics Publisher on Application Insights', how: 'metrics role on the resource group', from: `"scope": "[resourceId('Microsoft.Insights/components', format('appi-{0}', variables('resourceToken')))]"`, to: '"scope": "[resourceGroup().id]"' },
  { check: 'the function app runs on Flex Consumption with the Node version package.json names, deployed from its blob container as the identity', how: 'Node 18', from: '"version": "22"', to: '"version": "18"' },
  { check: 'the function app runs on Flex Consumption with the Node version package.json names, deployed from its blob container as the identity', how: 'a consumption plan', from: '"name": "FC1"', to: '"name": "Y1"' },
  { check: 'the bot\'s messaging endpoint is the app\'s messages function and its app id is the identity\'s client id', how: 'endpoint /api/message', from: /\/api\/messages'/g, to: "/api/message'" },
  { check: 'the bot has the Teams channel enabled', how: 'channel disabled', from: '"isEnabled": true', to: '"isEnabled": false' },
  { check: 'the app enqueues only to queues its triggers listen on, and the template creates exactly those queues', how: 'a misnamed queue', from: '"notifications-plan",', to: '"notifications-planning",' },
];

// ------------------------------------------------------------ the tests

describe('the infrastructure template (infra/main.json) against the code', () => {
  let code: Code;
  let subject: Subject;

  before(async () => {
    const registrations = appRegistrations();
    code = { functions: registrations.functions, routePrefix: registrations.routePrefix, enqueuedQueues: await queuesTheAppEnqueuesTo() };
    subject = subjectOf(templateText, managedIdentityParameters, code);
  });

  for (const [name, check] of Object.entries(checks)) {
    it(name, () => check(subject));
  }

  it('finds the queues the app enqueues to and the functions it registers (so the checks above have something to compare)', () => {
    assert.deepEqual(code.enqueuedQueues, ['notifications-deliver', 'notifications-plan']);
    assert.ok(code.functions.some((registration) => registration.triggerType === 'timertrigger'));
    assert.ok(code.functions.filter((registration) => registration.triggerType === 'queuetrigger').length >= 2);
  });

  describe('each check fails on a template broken its way', () => {
    for (const breakage of breakages) {
      it(`${breakage.how}: "${breakage.check}" fails`, () => {
        const check = checks[breakage.check];
        assert.ok(check !== undefined, `no check named "${breakage.check}"`);
        const broken = templateText.replace(breakage.from, breakage.to);
        assert.notEqual(broken, templateText, `the breakage "${breakage.how}" must change the template`);
        // The check itself must refuse it (an assertion, or loadSettings naming a setting), not the evaluator stumble on it.
        assert.throws(
          () => check(subjectOf(broken, managedIdentityParameters, code)),
          (error: unknown) => {
            if (process.env.INFRA_TEMPLATE_SHOW_REFUSALS) console.log(`${breakage.how}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
            return error instanceof assert.AssertionError || error instanceof SettingsError;
          },
        );
      });
    }

    it('every check has a breakage', () => {
      assert.deepEqual(Object.keys(checks).filter((name) => !breakages.some((breakage) => breakage.check === name)), []);
    });
  });

  describe('with an existing single-tenant app registration', () => {
    const parameters = { ...managedIdentityParameters, existingBotAppId: existingRegistration.appId, existingBotSecretUri: existingRegistration.secretUri };

    it('signs the bot in as that registration, its secret a Key Vault reference resolved by the identity', () => {
      const deployment = deployTemplate(JSON.parse(templateText) as Record<string, unknown>, parameters, scope);
      const settings = settingsOf(deployment);
      assert.equal(settings.microsoftAppType, 'SingleTenant');
      assert.equal(settings.microsoftAppId, existingRegistration.appId);
      assert.equal(settings.microsoftAppTenantId, scope.tenantId);
      assert.equal(settings.microsoftAppPassword, `@Microsoft.KeyVault(SecretUri=${existingRegistration.secretUri})`);
      assert.equal(property(functionApp(deployment).body.properties, 'keyVaultReferenceIdentity'), appIdentity(deployment).resource.id);
      const bot = single(deployment, 'Microsoft.BotService/botServices');
      assert.equal(property(bot.body.properties, 'msaAppType'), 'SingleTenant');
      assert.equal(property(bot.body.properties, 'msaAppId'), existingRegistration.appId);
      assert.equal(deployment.outputs.MicrosoftAppId, existingRegistration.appId, 'the Teams package is built for that app id');
    });
  });

  describe('with an existing multi-tenant app registration', () => {
    const parameters = {
      ...managedIdentityParameters,
      existingBotAppId: existingRegistration.appId,
      existingBotAppType: 'MultiTenant',
      existingBotSecretUri: existingRegistration.secretUri,
    };

    it('creates no Azure Bot (Azure no longer creates multi-tenant ones) and signs the app in as that registration', () => {
      const deployment = deployTemplate(JSON.parse(templateText) as Record<string, unknown>, parameters, scope);
      assert.deepEqual(deployed(deployment, 'Microsoft.BotService/botServices'), []);
      assert.deepEqual(deployed(deployment, 'Microsoft.BotService/botServices/channels'), []);
      const settings = settingsOf(deployment);
      assert.equal(settings.microsoftAppType, 'MultiTenant');
      assert.equal(settings.microsoftAppId, existingRegistration.appId);
      assert.equal(settings.microsoftAppPassword, `@Microsoft.KeyVault(SecretUri=${existingRegistration.secretUri})`);
      assert.equal(deployment.outputs.BOT_RESOURCE_NAME, '');
    });
  });

  it('gives the deploying user data access only when azd names one', () => {
    const users = (parameters: Record<string, ArmValue>): DeployedResource[] =>
      deployed(deployTemplate(JSON.parse(templateText) as Record<string, unknown>, parameters, scope), 'Microsoft.Authorization/roleAssignments').filter(
        (assignment) => property(assignment.body.properties, 'principalType') === 'User',
      );
    assert.equal(users(managedIdentityParameters).length, 3);
    assert.equal(users({ ...managedIdentityParameters, principalId: '' }).length, 0);
  });
});
