import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { freePort, isPortTaken, stopChild } from '../../scripts/azurite';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { teamsInstallationUpdate, teamsPersonalChat } from '../support/activities';
import { appSettings, startApp, type AppProcess } from '../support/appProcess';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../support/managedIdentityEndpoint';
import { makeCertificate } from '../support/testCertificate';

/**
 * Keyless storage end to end: Azurite accepts only bearer tokens (its
 * `--oauth basic` mode, which needs https), the app has no account key, only
 * AzureWebJobsStorage__* identity settings, and gets its tokens from a
 * managed identity endpoint as a function app in Azure does.
 */

const userAssignedClientId = '3c9d4e5f-0a1b-4c2d-8e3f-4a5b6c7d8e9f';

/** Azurite's table service over https, accepting only OAuth bearer tokens (and refusing the account key). */
async function startTokenOnlyAzurite(port: number, certPath: string, keyPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [
    require.resolve('azurite/dist/src/table/main.js'),
    '--tableHost', '127.0.0.1', '--tablePort', String(port),
    '--oauth', 'basic', '--cert', certPath, '--key', keyPath,
    '--inMemoryPersistence', '--silent', '--skipApiVersionCheck', '--disableTelemetry',
  ], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await isPortTaken(port))) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error('Azurite did not listen within 30 s');
    }
    await delay(100);
  }
  return child;
}

/** The status of an unauthenticated GET, trusting only the test certificate. */
function statusWithoutToken(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca, headers: { accept: 'application/json' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('keyless storage through the local host', () => {
  let dir: string | undefined;
  let certificate: Buffer | undefined;
  let tablesUrl = '';
  let azurite: ChildProcess | undefined;
  let identity: ManagedIdentityEndpoint | undefined;
  let connector: FakeConnector | undefined;
  let app: AppProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'keyless-'));
    const { certPath, keyPath } = makeCertificate(dir);
    const port = await freePort();
    [azurite, identity, connector] = await Promise.all([startTokenOnlyAzurite(port, certPath, keyPath), startManagedIdentityEndpoint(), startFakeConnector()]);
    const endpoint = `https://127.0.0.1:${port}/devstoreaccount1`;
    certificate = readFileSync(certPath);
    tablesUrl = `${endpoint}/Tables`;
    app = await startApp({
      settings: appSettings('', {
        AzureWebJobsStorage__tableServiceUri: endpoint,
        AzureWebJobsStorage__queueServiceUri: endpoint,
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: userAssignedClientId,
        ...identity.env,
        // The app trusts this test's certificate, as it trusts Azure Storage's.
        NODE_EXTRA_CA_CERTS: certPath,
      }),
    });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await identity?.stop();
    if (azurite !== undefined) await stopChild(azurite, 5_000, 'SIGINT');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('this storage refuses a request without a token', async () => {
    assert.ok(certificate);
    assert.equal(await statusWithoutToken(tablesUrl, certificate), 403);
  });

  test('stores a conversation and notifies it with a managed identity token, no account key', async () => {
    assert.ok(app && connector && identity);
    const captured = await fetch(`${app.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(teamsInstallationUpdate(connector.serviceUrl, teamsPersonalChat, 'add')),
    });
    assert.equal(captured.status, 200, await captured.text());
    connector.reset(); // the welcome message

    const notified = await fetch(`${app.baseUrl}/api/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'sent without keys' }),
    });
    const summary = (await notified.json()) as { matched: number; sent: number };
    assert.equal(notified.status, 200, JSON.stringify(summary));
    assert.equal(summary.matched, 1);
    assert.equal(summary.sent, 1);
    assert.deepEqual(
      connector.received.filter((activity) => activity.conversationId === teamsPersonalChat.conversationId).map((activity) => activity.text),
      ['sent without keys'],
    );

    // The tokens came from the managed identity endpoint, for Azure Storage, as the configured user-assigned identity.
    assert.ok(identity.requests.length > 0, 'the app asked the identity endpoint for a token');
    for (const request of identity.requests) {
      assert.equal(request.headerMatched, true);
      assert.equal(request.query.get('resource'), 'https://storage.azure.com');
      assert.equal(request.query.get('client_id'), userAssignedClientId);
    }
  });
});
