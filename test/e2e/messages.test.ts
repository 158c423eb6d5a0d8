import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { TableClient, type TableEntityResult } from '@azure/data-tables';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';

/** Answers every connector call with 200 {"id":"1"} and remembers what the bot sent. */
interface ThrowawayConnector {
  readonly serviceUrl: string;
  readonly posts: { path: string; body: unknown }[];
  close(): Promise<void>;
}

async function startThrowawayConnector(): Promise<ThrowawayConnector> {
  const posts: { path: string; body: unknown }[] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      posts.push({ path: request.url ?? '', body: text === '' ? undefined : (JSON.parse(text) as unknown) });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '1' }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    serviceUrl: `http://127.0.0.1:${address.port}/`,
    posts,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

type Row = TableEntityResult<Record<string, unknown>>;

async function readRows(connectionString: string): Promise<Row[]> {
  const table = TableClient.fromConnectionString(connectionString, 'conversations', { allowInsecureConnection: true });
  const rows: Row[] = [];
  try {
    for await (const row of table.listEntities<Record<string, unknown>>()) rows.push(row);
  } catch (error) {
    if (error instanceof Error && 'statusCode' in error && error.statusCode === 404) return [];
    throw error;
  }
  return rows;
}

function rowsFor(rows: readonly Row[], conversationId: string): Row[] {
  return rows.filter((row) => row.conversationId === conversationId);
}

describe('the messages endpoint served by the local host, with references in Azurite', () => {
  let storage: TestStorage;
  let connector: ThrowawayConnector;
  let app: AppProcess | undefined;
  let settings: Record<string, string>;

  const emulatorConversationId = 'emulator-conversation-1';
  const teamsPersonalId = 'a:1abcDEFghiJKLmnoPQRstuVWXyz0123456789';
  const teamsChannelId = '19:abc123@thread.tacv2';

  const emulatorConversationUpdate = (serviceUrl: string): Record<string, unknown> => ({
    type: 'conversationUpdate',
    id: 'activity-emulator-1',
    timestamp: new Date().toISOString(),
    channelId: 'emulator',
    serviceUrl,
    conversation: { id: emulatorConversationId },
    from: { id: 'user-1', name: 'User' },
    recipient: { id: 'bot-1', name: 'Bot' },
    membersAdded: [
      { id: 'bot-1', name: 'Bot' },
      { id: 'user-1', name: 'User' },
    ],
  });

  const teamsPersonalConversationUpdate = (serviceUrl: string): Record<string, unknown> => ({
    type: 'conversationUpdate',
    id: 'f:teams-personal-1',
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: teamsPersonalId, conversationType: 'personal', tenantId: 'tenant-1' },
    from: { id: '29:1userAbc', aadObjectId: '00000000-0000-0000-0000-0000000000a1' },
    recipient: { id: '28:bot-app-id', name: 'Notifier' },
    membersAdded: [{ id: '28:bot-app-id' }],
    channelData: { tenant: { id: 'tenant-1' } },
  });

  const teamsChannelInstallationUpdate = (serviceUrl: string): Record<string, unknown> => ({
    type: 'installationUpdate',
    action: 'add',
    id: 'f:teams-channel-1',
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: teamsChannelId, conversationType: 'channel', tenantId: 'tenant-1', isGroup: true },
    from: { id: '29:1installer', aadObjectId: '00000000-0000-0000-0000-0000000000b2' },
    recipient: { id: '28:bot-app-id', name: 'Notifier' },
    channelData: { tenant: { id: 'tenant-1' }, team: { id: '19:team@thread.tacv2' }, channel: { id: '19:abc123@thread.tacv2' } },
  });

  const postActivity = (activity: unknown): Promise<Response> =>
    fetch(`${app?.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });

  before(async () => {
    storage = await startTestStorage();
    connector = await startThrowawayConnector();
    settings = appSettings(storage.connectionString);
    app = await startApp({ settings });
  });

  after(async () => {
    await app?.stop();
    await connector?.close();
    await storage?.dispose();
  });

  test('an Emulator conversationUpdate that adds the bot stores the reference and greets the user', async () => {
    const response = await postActivity(emulatorConversationUpdate(connector.serviceUrl));
    assert.equal(response.status, 200, await response.text());

    const rows = rowsFor(await readRows(storage.connectionString), emulatorConversationId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.channelId, 'emulator');
    assert.equal(rows[0]?.serviceUrl, connector.serviceUrl);
    assert.ok(connector.posts.some((post) => post.path.includes(`/v3/conversations/${emulatorConversationId}/activities`)));
  });

  test('posting the same conversationUpdate twice leaves one row', async () => {
    const response = await postActivity(emulatorConversationUpdate(connector.serviceUrl));
    assert.equal(response.status, 200);
    assert.equal(rowsFor(await readRows(storage.connectionString), emulatorConversationId).length, 1);
  });

  test('a Teams personal conversationUpdate and a channel installationUpdate store references with tenant and ids', async () => {
    assert.equal((await postActivity(teamsPersonalConversationUpdate(connector.serviceUrl))).status, 200);
    assert.equal((await postActivity(teamsChannelInstallationUpdate(connector.serviceUrl))).status, 200);

    const rows = await readRows(storage.connectionString);
    const personal = rowsFor(rows, teamsPersonalId);
    const channel = rowsFor(rows, teamsChannelId);
    assert.equal(personal.length, 1);
    assert.equal(personal[0]?.tenantId, 'tenant-1');
    assert.equal(personal[0]?.conversationType, 'personal');
    assert.equal(channel.length, 1);
    assert.equal(channel[0]?.conversationType, 'channel');
    assert.equal(channel[0]?.channelId, 'msteams');
  });

  test('a message stores the reference of its conversation and gets a reply', async () => {
    const conversationId = 'emulator-conversation-2';
    const response = await postActivity({
      type: 'message',
      id: 'message-1',
      text: 'hello',
      timestamp: new Date().toISOString(),
      channelId: 'emulator',
      serviceUrl: connector.serviceUrl,
      conversation: { id: conversationId },
      from: { id: 'user-2', name: 'Other user' },
      recipient: { id: 'bot-1', name: 'Bot' },
    });
    assert.equal(response.status, 200);
    assert.equal(rowsFor(await readRows(storage.connectionString), conversationId).length, 1);
    assert.ok(connector.posts.some((post) => post.path.includes(`/v3/conversations/${conversationId}/activities`)));
  });

  test('a malformed body gets 400 and leaves the table unchanged', async () => {
    const before = await readRows(storage.connectionString);
    for (const body of ['{not json', JSON.stringify({ text: 'no type' }), '']) {
      const response = await fetch(`${app?.baseUrl}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 400, `body ${JSON.stringify(body)}`);
    }
    const afterRows = await readRows(storage.connectionString);
    assert.deepEqual(
      afterRows.map((row) => [row.partitionKey, row.rowKey, row.etag]),
      before.map((row) => [row.partitionKey, row.rowKey, row.etag]),
    );
  });

  test('GET /api/messages is answered 405 and an unknown route 404', async () => {
    const get = await fetch(`${app?.baseUrl}/api/messages`);
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow') ?? '', /POST/);
    assert.equal((await fetch(`${app?.baseUrl}/api/no-such-function`)).status, 404);
    assert.equal((await fetch(`${app?.baseUrl}/nothing/here`, { method: 'POST' })).status, 404);
  });

  test('stored references survive a restart of the app and of Azurite', async () => {
    const before = await readRows(storage.connectionString);
    assert.equal(before.length, 4);

    await app?.stop();
    app = undefined;
    await storage.restart();
    app = await startApp({ settings });

    const rows = await readRows(storage.connectionString);
    assert.deepEqual(
      rows.map((row) => row.conversationId).sort(),
      before.map((row) => row.conversationId).sort(),
    );
    // The restarted app still reads and writes the same table.
    assert.equal((await postActivity(emulatorConversationUpdate(connector.serviceUrl))).status, 200);
    assert.equal(rowsFor(await readRows(storage.connectionString), emulatorConversationId).length, 1);
  });
});
