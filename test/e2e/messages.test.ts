import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TableClient, type TableEntityResult } from '@azure/data-tables';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import {
  emulatorConversationUpdate,
  emulatorMessage,
  teamsConversationUpdate,
  teamsInstallationUpdate,
  teamsPersonalChat,
  type TeamsConversation,
} from '../support/activities';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';

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
  let connector: FakeConnector;
  let app: AppProcess | undefined;
  let settings: Record<string, string>;

  const emulatorConversationId = 'emulator-conversation-1';
  const teamsChannel: TeamsConversation = { ...teamsPersonalChat, conversationId: '19:abc123@thread.tacv2', conversationType: 'channel' };

  const postActivity = (activity: unknown): Promise<Response> =>
    fetch(`${app?.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });

  before(async () => {
    storage = await startTestStorage();
    connector = await startFakeConnector();
    settings = appSettings(storage.connectionString);
    app = await startApp({ settings });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  test('an Emulator conversationUpdate that adds the bot stores the reference and greets the user', async () => {
    const response = await postActivity(emulatorConversationUpdate(connector.serviceUrl, emulatorConversationId));
    assert.equal(response.status, 200, await response.text());

    const rows = rowsFor(await readRows(storage.connectionString), emulatorConversationId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.channelId, 'emulator');
    assert.equal(rows[0]?.serviceUrl, connector.serviceUrl);
    assert.equal(connector.deliveredCount(emulatorConversationId), 1, 'the user is greeted');
  });

  test('posting the same conversationUpdate twice leaves one row', async () => {
    const response = await postActivity(emulatorConversationUpdate(connector.serviceUrl, emulatorConversationId));
    assert.equal(response.status, 200);
    assert.equal(rowsFor(await readRows(storage.connectionString), emulatorConversationId).length, 1);
  });

  test('a Teams personal conversationUpdate and a channel installationUpdate store references with tenant and ids', async () => {
    assert.equal((await postActivity(teamsConversationUpdate(connector.serviceUrl, teamsPersonalChat, 'added'))).status, 200);
    assert.equal((await postActivity(teamsInstallationUpdate(connector.serviceUrl, teamsChannel, 'add'))).status, 200);

    const rows = await readRows(storage.connectionString);
    const personal = rowsFor(rows, teamsPersonalChat.conversationId);
    const channel = rowsFor(rows, teamsChannel.conversationId);
    assert.equal(personal.length, 1);
    assert.equal(personal[0]?.tenantId, teamsPersonalChat.tenantId);
    assert.equal(personal[0]?.conversationType, 'personal');
    assert.equal(channel.length, 1);
    assert.equal(channel[0]?.conversationType, 'channel');
    assert.equal(channel[0]?.channelId, 'msteams');
  });

  test('a message stores the reference of its conversation and gets a reply', async () => {
    const conversationId = 'emulator-conversation-2';
    const response = await postActivity(emulatorMessage(connector.serviceUrl, conversationId, 'hello'));
    assert.equal(response.status, 200);
    assert.equal(rowsFor(await readRows(storage.connectionString), conversationId).length, 1);
    assert.equal(connector.deliveredCount(conversationId), 1, 'the bot replied');
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
    assert.equal((await postActivity(emulatorConversationUpdate(connector.serviceUrl, emulatorConversationId))).status, 200);
    assert.equal(rowsFor(await readRows(storage.connectionString), emulatorConversationId).length, 1);
  });
});
