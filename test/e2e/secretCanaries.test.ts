import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AzureNamedKeyCredential, generateAccountSas } from '@azure/data-tables';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { teamsInstallationUpdate, teamsPersonalChat } from '../support/activities';
import { appSettings, startApp, type AppProcess } from '../support/appProcess';
import { epochSeconds, signingKey, signToken, startOpenIdServer, type OpenIdServer } from '../support/openIdServer';

/**
 * Canary values in the bot's password, a storage account key (in a connection
 * string) and a SAS token; then the app is used and abused through the local
 * host: a captured conversation, a notification, a refused token, and storage
 * going down while capturing and notifying. No log line of the host process
 * and no HTTP answer may contain a canary, in any spelling a URL or a header
 * could give it.
 */
// The two rounds run side by side: most of their time is the storage SDK retrying against a stopped Azurite.
describe('no secret in a log or an answer', { concurrency: true }, () => {
  const appId = '0c1a2b3d-0000-4000-8000-00000000ca11';
  const account = 'canarystore';
  const accountKey = randomBytes(64).toString('base64');
  const appPassword = `app-password-canary-${randomUUID()}`;
  const channelKey = signingKey('canary-channel-key', ['msteams']);
  const forgedKey = signingKey('canary-channel-key');

  let connector: FakeConnector;
  let keys: OpenIdServer;

  before(async () => {
    [connector, keys] = await Promise.all([startFakeConnector(), startOpenIdServer({ channel: [channelKey], emulator: [] })]);
  });

  after(async () => {
    await connector?.stop();
    await keys?.stop();
  });

  /** Each canary as written, URL-encoded and base64url-spelled: logs and answers may show any of them. */
  function spellings(secret: string): string[] {
    return [...new Set([secret, encodeURIComponent(secret), secret.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')])];
  }

  /** One round: the app with the key connection string in one storage setting and the SAS one in the other. */
  for (const conversationsStorage of ['account key', 'SAS token'] as const) {
    test(`with the ${conversationsStorage} connection for the conversation table, neither logs nor answers repeat a secret`, async () => {
      let azurite: RunningAzurite | undefined = await startAzurite({ extraAccounts: { [account]: accountKey } });
      let app: AppProcess | undefined;
      try {
        const tableEndpoint = `http://127.0.0.1:${azurite.tablePort}/${account}`;
        const sas = generateAccountSas(new AzureNamedKeyCredential(account, accountKey), {
          expiresOn: new Date(Date.now() + 24 * 3600 * 1000),
          resourceTypes: 'sco',
          permissions: { query: true, add: true, update: true, delete: true, write: true, list: true },
        });
        const sasSignature = decodeURIComponent(new URLSearchParams(sas).get('sig') ?? '');
        assert.notEqual(sasSignature, '');
        const keyConnection = `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};TableEndpoint=${tableEndpoint};`;
        const sasConnection = `TableEndpoint=${tableEndpoint};SharedAccessSignature=${sas}`;
        const canaries = [appPassword, accountKey, sasSignature, sas];

        app = await startApp({
          settings: appSettings('', {
            AzureWebJobsStorage: conversationsStorage === 'account key' ? sasConnection : keyConnection,
            CONVERSATIONS_STORAGE_CONNECTION: conversationsStorage === 'account key' ? keyConnection : sasConnection,
            MicrosoftAppId: appId,
            MicrosoftAppPassword: appPassword,
            ToBotFromChannelOpenIdMetadataUrl: keys.channelMetadataUrl,
            // Token requests for replies go nowhere (no https authority here): the password is offered, never accepted.
            ToChannelFromBotLoginUrl: new URL('/botframework.com', keys.channelMetadataUrl).toString(),
          }),
        });
        const answers: string[] = [];
        const call = async (path: string, init: RequestInit = {}): Promise<number> => {
          const response = await fetch(`${app?.baseUrl}${path}`, init);
          answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
          return response.status;
        };
        const claims = { iss: 'https://api.botframework.com', aud: appId, serviceurl: connector.serviceUrl, nbf: epochSeconds(-60), exp: epochSeconds(3600) };
        const install = (conversationId: string, token: string): RequestInit => ({
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(teamsInstallationUpdate(connector.serviceUrl, { ...teamsPersonalChat, conversationId }, 'add')),
        });
        const notifyRequest: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'canary check' }) };

        assert.equal(await call('/api/messages', install('a:canary-1', signToken(channelKey, claims))), 200, answers.join('\n'));
        assert.equal(await call('/api/messages', install('a:canary-2', signToken(forgedKey, claims))), 401);
        // The channel cannot be reached with these credentials: whatever notify answers, it must answer without secrets.
        await call('/api/notify', notifyRequest);
        await call('/api/notify');

        await azurite.stop();
        azurite = undefined;
        assert.equal(await call('/api/messages', install('a:canary-3', signToken(channelKey, claims))), 503);
        assert.equal(await call('/api/notify', notifyRequest), 503);
        await app.waitForOutput(/unavailable/);

        const output = app.output();
        for (const canary of canaries) {
          for (const spelling of spellings(canary)) {
            assert.ok(!output.includes(spelling), `the host's output contains a secret:\n${output}`);
            for (const answer of answers) assert.ok(!answer.includes(spelling), `an answer contains a secret: ${answer}`);
          }
        }
        // The test saw what it means to check: the outage and the refusal were logged.
        assert.match(output, /table "conversations" unavailable/);
        assert.match(output, /-> 401/);
      } finally {
        await app?.stop();
        await azurite?.stop();
      }
    });
  }
});
