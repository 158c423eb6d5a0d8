import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { emulatorConversationUpdate, emulatorMessage } from '../support/activities';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';

/**
 * Input limits through the local host of `npm start`: the app's own limits
 * (MESSAGES_MAX_BODY_BYTES, NOTIFY_MAX_BODY_BYTES, JSON only) and the host's
 * (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 4 KB URLs), which apply before any function runs.
 */
describe('request body limits through the local host', () => {
  let storage: TestStorage;
  let connector: FakeConnector;
  let app: AppProcess | undefined;
  const hostLimit = 2 * 1024 * 1024;

  before(async () => {
    storage = await startTestStorage();
    connector = await startFakeConnector();
    app = await startApp({ settings: appSettings(storage.connectionString, { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(hostLimit) }) });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  const url = (path: string): string => `${app?.baseUrl}${path}`;
  const postText = (path: string, body: string, contentType = 'application/json'): Promise<Response> =>
    fetch(url(path), { method: 'POST', headers: { 'content-type': contentType }, body });

  async function storedConversationIds(): Promise<string[]> {
    const table = TableClient.fromConnectionString(storage.connectionString, 'conversations', { allowInsecureConnection: true });
    const ids: string[] = [];
    try {
      for await (const row of table.listEntities<{ conversationId: string }>()) ids.push(row.conversationId);
    } catch (error) {
      if (error instanceof Error && 'statusCode' in error && error.statusCode === 404) return [];
      throw error;
    }
    return ids;
  }

  /** An Emulator message activity padded with text to about `bytes` bytes of JSON. */
  function paddedMessage(conversationId: string, bytes: number): string {
    const activity = emulatorMessage(connector.serviceUrl, conversationId, '');
    const overhead = JSON.stringify(activity).length;
    return JSON.stringify({ ...activity, text: 'x'.repeat(bytes - overhead) });
  }

  test('a 200 KB activity is within /api/messages\' 256 KB and is stored', async () => {
    const response = await postText('/api/messages', paddedMessage('within-limit', 200 * 1024));
    assert.equal(response.status, 200, await response.text());
    assert.ok((await storedConversationIds()).includes('within-limit'));
  });

  test('a 300 KB activity gets 413 with a JSON reason from /api/messages and nothing is stored', async () => {
    const response = await postText('/api/messages', paddedMessage('over-limit', 300 * 1024));
    assert.equal(response.status, 413);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(body.error, 'RequestBodyTooLarge');
    assert.match(body.message, /262144 bytes/);
    assert.ok(!(await storedConversationIds()).includes('over-limit'));
  });

  test('a streamed body without Content-Length is refused with 413 once it passes the limit', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(url('/api/messages'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: string }).error, 'RequestBodyTooLarge');
  });

  test('a body that claims a content type other than JSON gets 415 from /api/messages and /api/notify', async () => {
    const activity = JSON.stringify(emulatorConversationUpdate(connector.serviceUrl, 'form-posted'));
    for (const path of ['/api/messages', '/api/notify']) {
      const response = await postText(path, activity, 'text/plain');
      assert.equal(response.status, 415, path);
      assert.equal(((await response.json()) as { error: string }).error, 'UnsupportedMediaType');
    }
    assert.ok(!(await storedConversationIds()).includes('form-posted'));
  });

  test('/api/notify refuses a body over its own 1 MB limit with 413 and sends nothing', async () => {
    const before = connector.received.length;
    const response = await postText('/api/notify', JSON.stringify({ text: 'hi', target: { conversationIds: Array(20_000).fill('a'.repeat(60)) } }));
    assert.equal(response.status, 413);
    assert.match(((await response.json()) as { message: string }).message, /1048576 bytes/);
    assert.equal(connector.received.length, before);
  });

  // Were the host to wait for the whole body, no answer would come: the timeout fails the test instead of hanging.
  test('the host answers 413 to a body declared larger than FUNCTIONS_REQUEST_BODY_SIZE_LIMIT before the body is sent', { timeout: 30_000 }, async () => {
    // Only the headers and the first 64 KB of a declared 5 MB go out; the answer comes anyway.
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = httpRequest(url('/api/messages'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) },
      });
      outgoing.on('response', resolve);
      outgoing.on('error', reject);
      outgoing.write(Buffer.alloc(64 * 1024, 0x20));
    });
    assert.equal(response.statusCode, 413);
    assert.equal(response.headers.connection, 'close');
    response.resume();
    response.socket.destroy();
  });

  test('the host answers 414 to a URL longer than 4 KB, as Azure does', async () => {
    const response = await fetch(url(`/api/notify?text=${'a'.repeat(5000)}`));
    assert.equal(response.status, 414);
  });
});
