import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { audiencePreview } from '../../functions/audiencePreview';
import { freePort, startAzurite, tableConnectionString, type RunningAzurite } from '../../scripts/azurite';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import type { AudiencePreview } from '../../shared/notifications/audiencePreview';
import { createServices, setServices } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { recordingLogger } from '../support/recordingLogger';
import { storageAt } from '../support/storageAt';
import { storedTeamsConversation, type SeedConversation } from '../support/storedConversations';

let azurite: RunningAzurite;
let connector: FakeConnector;

before(async () => {
  [azurite, connector] = await Promise.all([startAzurite(), startFakeConnector({ recordActivities: true })]);
});

after(async () => {
  setServices(undefined);
  await Promise.all([azurite?.stop(), connector?.stop()]);
});

/** The app's services over a real conversation table in Azurite, holding the given conversations. */
async function useTable(table: string, conversations: readonly SeedConversation[], maxMessageBytes?: number) {
  const settings = loadSettings({
    AzureWebJobsStorage: azurite.connectionString,
    CONVERSATIONS_TABLE: table,
    ...(maxMessageBytes === undefined ? {} : { NOTIFY_MAX_MESSAGE_BYTES: String(maxMessageBytes) }),
  });
  const services = createServices(settings, { logger: recordingLogger() });
  for (const conversation of conversations) await services.store.upsert(storedTeamsConversation(conversation, connector.serviceUrl));
  setServices(services);
}

function post(body: string | object): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/notifications/preview',
    headers: { 'content-type': 'application/json' },
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });
  return audiencePreview(request, new InvocationContext({ functionName: 'audiencePreview', logHandler: () => undefined }));
}

const audience = [
  { id: 'a:ada', tenant: 'contoso', type: 'personal' },
  { id: 'a:bob', tenant: 'contoso', type: 'personal' },
  { id: '19:ops@thread.tacv2', tenant: 'contoso', type: 'channel' },
  { id: 'a:cy', tenant: 'fabrikam', type: 'personal' },
];

describe('audiencePreview function (POST /api/notifications/preview)', () => {
  it('answers how many stored conversations the body would reach, by tenant and type, and sends nothing', async () => {
    await useTable('previewall', audience);

    const response = await post({ text: 'Heads up', target: { conversationTypes: ['personal', 'channel'] } });

    assert.equal(response.status, 200);
    const preview = response.jsonBody as AudiencePreview;
    assert.equal(preview.matched, 4);
    assert.equal(preview.complete, true);
    assert.deepEqual(preview.byConversationType, { personal: 3, channel: 1 });
    assert.deepEqual(preview.tenants, [
      { tenantId: 'contoso', matched: 3, byConversationType: { personal: 2, channel: 1 } },
      { tenantId: 'fabrikam', matched: 1, byConversationType: { personal: 1 } },
    ]);
    assert.deepEqual(connector.received, [], 'a preview sends nothing');
  });

  it('applies the target like a send does', async () => {
    await useTable('previewtarget', audience);

    const response = await post({ text: 'Only Fabrikam', target: { tenantIds: ['fabrikam'] } });

    assert.equal(response.status, 200);
    assert.equal((response.jsonBody as AudiencePreview).matched, 1);
  });

  it('refuses a body the API would refuse, with every problem listed', async () => {
    await useTable('previewbad', audience, 200);

    const response = await post({ text: 'x'.repeat(200), target: { conversationTypes: ['meeting'] } });

    assert.equal(response.status, 400);
    const { errors } = response.jsonBody as { errors: string[] };
    assert.ok(errors.some((error) => error.includes('target.conversationTypes')), JSON.stringify(errors));
    assert.ok(errors.some((error) => error.includes('the limit is 200')), JSON.stringify(errors));
  });

  it('refuses a body over NOTIFY_MAX_BODY_BYTES with 413 before reading it as JSON', async () => {
    const settings = loadSettings({ AzureWebJobsStorage: azurite.connectionString, NOTIFY_MAX_BODY_BYTES: '2048' });
    setServices(createServices(settings, { logger: recordingLogger() }));

    const response = await post({ text: 'y'.repeat(3_000) });

    assert.equal(response.status, 413);
    assert.equal((response.jsonBody as { error: string }).error, 'RequestBodyTooLarge');
  });

  it('answers 503 with a JSON error when the conversation table cannot be reached', async () => {
    const deadEnd = tableConnectionString(await freePort());
    const settings = loadSettings({ AzureWebJobsStorage: deadEnd });
    const store = new TableConversationStore(storageAt(deadEnd), 'conversations', undefined, { maxRetries: 0 });
    setServices(createServices(settings, { store, logger: recordingLogger() }));

    const response = await post({ text: 'anyone?' });

    assert.equal(response.status, 503);
    assert.equal((response.jsonBody as { error: string }).error, 'StorageUnavailable');
  });
});
