import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import { dotNetDateTimeOffset } from '../../scripts/localHost/queueMessages';
import { repoRoot, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { startCallbackServer, type CallbackServer } from '../support/callbackServer';
import { startManagedIdentityEndpoint, unsignedStorageToken, type ManagedIdentityEndpoint } from '../support/managedIdentityEndpoint';
import { makeCertificate } from '../support/testCertificate';

/**
 * Queue-triggered functions in the local host against a real Azurite queue
 * service. The fixture app's host.json: batchSize 2, newBatchThreshold 1,
 * maxPollingInterval 0.5 s, visibilityTimeout 2 s, maxDequeueCount 3.
 */

const fixtureApp = path.join(repoRoot, 'test', 'fixtures', 'queueApp');

interface Report {
  readonly functionName: string;
  readonly dequeueCount?: number;
  readonly message?: unknown;
  readonly triggerMetadata?: Record<string, unknown>;
  readonly event?: 'started' | 'finished';
  readonly label?: string;
  readonly running?: number;
  /** Date.now() in the host when the function reported. */
  readonly at?: number;
}

/** What a producer does: base64-encode the text, as the Functions host expects by default. */
async function send(queue: QueueClient, text: string): Promise<{ messageId: string; insertedOn: Date; expiresOn: Date }> {
  await queue.createIfNotExists();
  return queue.sendMessage(Buffer.from(text, 'utf8').toString('base64'));
}

/** The texts of the visible messages; none while the queue does not exist yet. */
async function visibleTexts(queue: QueueClient): Promise<string[]> {
  try {
    return (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((item) => item.messageText);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return [];
    throw error;
  }
}

/** Resolves once the queue holds no message at all (visible or not); rejects after 30 s. */
async function waitUntilEmpty(queue: QueueClient): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { approximateMessagesCount } = await queue.getProperties();
    if (approximateMessagesCount === 0) return;
    if (Date.now() > deadline) throw new Error(`queue ${queue.name} still holds ${approximateMessagesCount} message(s)`);
    await delay(100);
  }
}

function hostSettings(storage: TestStorage, callbacks: CallbackServer<Report>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: storage.connectionString,
    FixtureQueueStorage: storage.connectionString,
    FIXTURE_ECHO_QUEUE: 'Echo-Items',
    FIXTURE_CALLBACK_URL: callbacks.url,
    LOCAL_QUEUE_VISIBILITY_SECONDS: '2',
    'AzureWebJobs.queueDisabled.Disabled': 'true',
    ...extra,
  };
}

describe('queue triggers in the local host', () => {
  let storage: TestStorage;
  let callbacks: CallbackServer<Report>;
  let app: AppProcess;
  let queues: QueueServiceClient;

  before(async () => {
    [storage, callbacks] = await Promise.all([startTestStorage({ queues: true }), startCallbackServer<Report>()]);
    queues = QueueServiceClient.fromConnectionString(storage.connectionString);
    app = await startApp({ appRoot: fixtureApp, settings: hostSettings(storage, callbacks) });
  });

  after(async () => {
    await app?.stop();
    await callbacks?.close();
    await storage?.dispose();
  });

  test('a JSON message reaches the handler as an object with the metadata the Functions host gives, and is deleted once the function succeeds', async () => {
    // The queue name comes from %FIXTURE_ECHO_QUEUE% ("Echo-Items"), lower-cased as the host does;
    // it is created after the host started, and the trigger picks it up.
    const queue = queues.getQueueClient('echo-items');
    const sent = await send(queue, JSON.stringify({ label: 'json', nested: { n: 1 } }));

    const [report] = await callbacks.waitFor((candidate) => candidate.functionName === 'queueEcho' && (candidate.message as { label?: string })?.label === 'json');
    assert.deepEqual(report?.message, { label: 'json', nested: { n: 1 } });
    const metadata = report?.triggerMetadata ?? {};
    assert.equal(metadata.id, sent.messageId);
    assert.equal(metadata.dequeueCount, 1);
    assert.equal(metadata.insertionTime, dotNetDateTimeOffset(sent.insertedOn));
    assert.equal(metadata.expirationTime, dotNetDateTimeOffset(sent.expiresOn));
    assert.match(String(metadata.nextVisibleTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
    assert.ok(Date.parse(String(metadata.nextVisibleTime)) > Date.parse(String(metadata.insertionTime)));
    assert.equal(typeof metadata.popReceipt, 'string');
    assert.notEqual(metadata.popReceipt, '');
    assert.deepEqual(metadata.queueTrigger, { label: 'json', nested: { n: 1 } });
    // As in the Functions host, the top-level properties of a JSON message are binding data too.
    assert.equal(metadata.label, 'json');

    await waitUntilEmpty(queue);
    assert.match(app.output(), /Executed 'Functions\.queueEcho' \(Succeeded, Id=[^)]+\) queue 'echo-items' message [0-9a-f-]+ \(dequeue count 1\)/);
  });

  test('a text message that is not JSON arrives as the decoded string; one that is not base64 goes to the poison queue without running the function', async () => {
    const queue = queues.getQueueClient('echo-items');
    await send(queue, 'plain text, ünïcode');
    const [report] = await callbacks.waitFor((candidate) => candidate.functionName === 'queueEcho' && candidate.message === 'plain text, ünïcode');
    assert.equal(report?.triggerMetadata?.queueTrigger, 'plain text, ünïcode');

    const notBase64 = await queue.sendMessage('this is not base64!');
    const poison = queues.getQueueClient('echo-items-poison');
    await waitUntilEmpty(queue);
    assert.deepEqual(await visibleTexts(poison), ['this is not base64!']);
    assert.equal(callbacks.reports.some((candidate) => candidate.triggerMetadata?.id === notBase64.messageId), false);
    assert.match(app.output(), new RegExp(`Message decoding has failed! .*MessageId=${notBase64.messageId}`));
  });

  test('a failing message is retried after visibilityTimeout with a growing dequeueCount, then moved unchanged to <queue>-poison after maxDequeueCount', async () => {
    const queue = queues.getQueueClient('failing-items');
    const text = JSON.stringify({ label: 'always fails' });
    await send(queue, text);

    const attempts = await callbacks.waitFor((candidate) => candidate.functionName === 'queueFailing', 3);
    assert.deepEqual(attempts.map((attempt) => attempt.dequeueCount), [1, 2, 3]);
    // Each retry waits for visibilityTimeout (2 s; Azurite counts whole seconds, hence the margin).
    for (const [index, attempt] of attempts.slice(1).entries()) {
      const gap = (attempt.at ?? 0) - (attempts[index]?.at ?? 0);
      assert.ok(gap >= 1_000, `attempt ${index + 2} came ${gap} ms after the previous one`);
    }

    const poison = queues.getQueueClient('failing-items-poison');
    const deadline = Date.now() + 30_000;
    let poisoned: string[] = [];
    while (poisoned.length === 0 && Date.now() < deadline) {
      poisoned = await visibleTexts(poison);
      if (poisoned.length === 0) await delay(100);
    }
    // The same text as on the wire: still base64, so a function on the poison queue reads it the same way.
    assert.deepEqual(poisoned, [Buffer.from(text).toString('base64')]);
    await waitUntilEmpty(queue);
    // Nothing runs it a fourth time.
    await delay(2_500);
    assert.equal(callbacks.reports.filter((candidate) => candidate.functionName === 'queueFailing').length, 3);
    assert.match(app.output(), /Message has reached MaxDequeueCount of 3\. Moving message to queue 'failing-items-poison'/);
  });

  test('while a function runs longer than the visibility window, its message stays invisible: another receiver never gets it and it runs once', async () => {
    const queue = queues.getQueueClient('slow-items');
    // Four windows of 2 s: without renewal it would reappear (and run again) after the first.
    await send(queue, JSON.stringify({ label: 'renewed', holdMs: [8_000] }));
    await callbacks.waitFor((candidate) => candidate.label === 'renewed' && candidate.event === 'started');

    let finished = false;
    const stolen: string[] = [];
    while (!finished) {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
      stolen.push(...receivedMessageItems.map((item) => item.messageText));
      finished = callbacks.reports.some((candidate) => candidate.label === 'renewed' && candidate.event === 'finished');
      await delay(200);
    }
    assert.deepEqual(stolen, []);
    await waitUntilEmpty(queue);
    const starts = callbacks.reports.filter((candidate) => candidate.label === 'renewed' && candidate.event === 'started');
    assert.deepEqual(starts.map((start) => start.dequeueCount), [1]);
  });

  test('no more than batchSize + newBatchThreshold (2 + 1) messages run at once, and every message runs once', async () => {
    const queue = queues.getQueueClient('slow-items');
    const labels = Array.from({ length: 10 }, (_, index) => `concurrent-${index}`);
    await Promise.all(labels.map((label) => send(queue, JSON.stringify({ label, holdMs: [400] }))));

    const finished = await callbacks.waitFor((candidate) => candidate.event === 'finished' && String(candidate.label).startsWith('concurrent-'), labels.length);
    assert.deepEqual(finished.map((report) => report.label).sort(), [...labels].sort());
    const starts = callbacks.reports.filter((candidate) => candidate.event === 'started' && String(candidate.label).startsWith('concurrent-'));
    assert.equal(starts.length, labels.length);
    const most = Math.max(...starts.map((start) => start.running ?? 0));
    assert.ok(most <= 3, `at most 3 at once, saw ${most}`);
    assert.ok(most >= 2, `messages of a batch run concurrently, saw at most ${most} at once`);
    await waitUntilEmpty(queue);
  });

  test('a queue deleted and created again while the host runs is polled again', async () => {
    const queue = queues.getQueueClient('echo-items');
    await queue.delete();
    // Long enough for polls to fail against the missing queue.
    await delay(1_000);
    await send(queue, 'after re-creation');
    await callbacks.waitFor((candidate) => candidate.functionName === 'queueEcho' && candidate.message === 'after re-creation');
    await waitUntilEmpty(queue);
  });

  test('a disabled queue function (AzureWebJobs.<name>.Disabled) leaves its messages in the queue', async () => {
    const queue = queues.getQueueClient('disabled-items');
    await send(queue, 'for nobody');
    // Long enough for several polls at the 0.5 s maxPollingInterval.
    await delay(2_000);
    const { peekedMessageItems } = await queue.peekMessages();
    assert.equal(peekedMessageItems.length, 1);
    assert.equal(peekedMessageItems[0]?.dequeueCount, 0);
    assert.equal(callbacks.reports.some((candidate) => candidate.functionName === 'queueDisabled'), false);
    assert.match(app.output(), /queueDisabled: disabled/);
  });
});

describe('queue triggers when the local host crashes or stops', () => {
  let storage: TestStorage;
  let callbacks: CallbackServer<Report>;
  let queue: QueueClient;
  const hosts: AppProcess[] = [];
  const startHost = async (): Promise<AppProcess> => {
    const host = await startApp({ appRoot: fixtureApp, settings: hostSettings(storage, callbacks, { LOCAL_QUEUE_VISIBILITY_SECONDS: '4' }) });
    hosts.push(host);
    return host;
  };

  before(async () => {
    [storage, callbacks] = await Promise.all([startTestStorage({ queues: true }), startCallbackServer<Report>()]);
    queue = QueueServiceClient.fromConnectionString(storage.connectionString).getQueueClient('slow-items');
  });

  after(async () => {
    for (const host of hosts) await host.stop();
    await callbacks?.close();
    await storage?.dispose();
  });

  test('a message in flight when the host is SIGKILLed stays invisible for LOCAL_QUEUE_VISIBILITY_SECONDS, then a restarted host runs it', async () => {
    const first = await startHost();
    await send(queue, JSON.stringify({ label: 'crash', holdMs: [600_000] }));
    await callbacks.waitFor((candidate) => candidate.label === 'crash' && candidate.event === 'started');
    await first.kill();

    // Still hidden: the window (4 s) was renewed while the function ran.
    assert.equal((await queue.peekMessages()).peekedMessageItems.length, 0);
    await startHost();
    const [rerun] = await callbacks.waitFor((candidate) => candidate.label === 'crash' && candidate.event === 'finished');
    assert.equal(rerun?.dequeueCount, 2);
    await waitUntilEmpty(queue);
    const starts = callbacks.reports.filter((candidate) => candidate.label === 'crash' && candidate.event === 'started');
    assert.deepEqual(starts.map((start) => start.dequeueCount), [1, 2]);
  });

  test('SIGTERM stops polling but lets a running function finish and delete its message', async () => {
    const host = hosts.at(-1) ?? (await startHost());
    await send(queue, JSON.stringify({ label: 'graceful', holdMs: [1_500] }));
    await callbacks.waitFor((candidate) => candidate.label === 'graceful' && candidate.event === 'started');
    await host.stop();

    assert.ok(callbacks.reports.some((candidate) => candidate.label === 'graceful' && candidate.event === 'finished'));
    assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
    await send(queue, JSON.stringify({ label: 'after stop' }));
    await delay(1_000);
    assert.equal(callbacks.reports.some((candidate) => candidate.label === 'after stop'), false);
  });
});

/** A request to the storage REST API over https, trusting only the test certificate, with a bearer token unless `anonymous`; resolves with the status. */
function storageRequest(url: string, method: string, ca: Buffer, body?: string, anonymous = false): Promise<number> {
  const authorization: Record<string, string> = anonymous ? {} : { authorization: `Bearer ${unsignedStorageToken()}` };
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, {
      method,
      ca,
      headers: { ...authorization, 'x-ms-version': '2021-12-02', 'content-type': 'application/xml' },
    }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('queue triggers on an identity-based connection (no account key)', () => {
  const clientId = '7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6';
  let dir: string;
  let azurite: RunningAzurite | undefined;
  let identity: ManagedIdentityEndpoint | undefined;
  let callbacks: CallbackServer<Report> | undefined;
  let app: AppProcess | undefined;
  let endpoint = '';
  let certificate: Buffer;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'keyless-queue-'));
    const { certPath, keyPath } = makeCertificate(dir);
    certificate = await readFile(certPath);
    [azurite, identity, callbacks] = await Promise.all([
      startAzurite({ queue: true, tokenOnly: { certPath, keyPath } }),
      startManagedIdentityEndpoint(),
      startCallbackServer<Report>(),
    ]);
    endpoint = `https://127.0.0.1:${azurite.queuePort}/devstoreaccount1`;
    const connection = { __queueServiceUri: endpoint, __credential: 'managedidentity', __clientId: clientId };
    const settings: Record<string, string> = {
      FUNCTIONS_WORKER_RUNTIME: 'node',
      FIXTURE_ECHO_QUEUE: 'keyless-items',
      FIXTURE_CALLBACK_URL: callbacks.url,
      ...identity.env,
      NODE_EXTRA_CA_CERTS: certPath,
    };
    for (const [suffix, value] of Object.entries(connection)) {
      settings[`AzureWebJobsStorage${suffix}`] = value;
      settings[`FixtureQueueStorage${suffix}`] = value;
    }
    app = await startApp({ appRoot: fixtureApp, settings });
  });

  after(async () => {
    await app?.stop();
    await callbacks?.close();
    await identity?.stop();
    await azurite?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('the host polls with managed identity tokens and runs the function', async () => {
    assert.ok(app && identity && callbacks);
    // This storage refuses a request without a token.
    assert.equal(await storageRequest(`${endpoint}/keyless-items`, 'PUT', certificate, undefined, true), 403);
    assert.equal(await storageRequest(`${endpoint}/keyless-items`, 'PUT', certificate), 201);
    const text = Buffer.from(JSON.stringify({ label: 'keyless' })).toString('base64');
    assert.equal(await storageRequest(`${endpoint}/keyless-items/messages`, 'POST', certificate, `<QueueMessage><MessageText>${text}</MessageText></QueueMessage>`), 201);

    const [report] = await callbacks.waitFor((candidate) => candidate.functionName === 'queueEcho');
    assert.deepEqual(report?.message, { label: 'keyless' });
    assert.ok(identity.requests.length > 0, 'the host asked the identity endpoint for a token');
    for (const request of identity.requests) {
      assert.equal(request.query.get('resource'), 'https://storage.azure.com');
      assert.equal(request.query.get('client_id'), clientId);
    }
  });
});
