import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConversationReference } from 'botbuilder';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';

const teamsChannelId = '19:abc@thread.tacv2;messageid=1690000000000';

let running: FakeConnector | undefined;

async function start(options: FakeConnectorOptions = {}): Promise<FakeConnector> {
  running = await startFakeConnector(options);
  return running;
}

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function referenceTo(connector: FakeConnector, conversationId: string): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: connector.serviceUrl,
    conversation: { id: conversationId, tenantId: 'tenant-a', isGroup: true, conversationType: 'channel', name: '' },
    bot: { id: '28:bot', name: 'bot' },
  };
}

// A bare `new CloudAdapter()` has no credentials factory and fails every proactive send with a TypeError;
// an empty configuration is what "no MicrosoftAppId" looks like.
function unauthenticatedAdapter(): CloudAdapter {
  return new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
}

async function sendHi(adapter: CloudAdapter, reference: Partial<ConversationReference>): Promise<void> {
  await adapter.continueConversationAsync('', reference, async (context) => {
    await context.sendActivity('hi');
  });
}

describe('fake Bot Connector driven by botbuilder', () => {
  it('receives a proactive message from CloudAdapter.continueConversationAsync exactly once', async () => {
    const connector = await start();

    await sendHi(unauthenticatedAdapter(), referenceTo(connector, teamsChannelId));

    assert.equal(connector.received.length, 1);
    assert.equal(connector.received[0]?.conversationId, teamsChannelId);
    assert.equal(connector.received[0]?.text, 'hi');
    assert.equal(connector.received[0]?.tenantId, 'tenant-a');
    assert.equal(connector.duplicates().size, 0);
  });

  it('surfaces a 404 ConversationNotFound as an error with statusCode 404 and the channel error code', async () => {
    const connector = await start({
      conversationFaults: { [teamsChannelId]: { status: 404, code: 'ConversationNotFound', message: 'Conversation not found.' } },
    });

    const error = await sendHi(unauthenticatedAdapter(), referenceTo(connector, teamsChannelId)).then(
      () => assert.fail('the send should have failed'),
      (caught: unknown) => caught,
    );

    assert.ok(error instanceof Error);
    assert.deepEqual(
      { name: error.name, statusCode: Reflect.get(error, 'statusCode'), code: Reflect.get(error, 'code'), message: error.message },
      { name: 'RestError', statusCode: 404, code: 'ConversationNotFound', message: 'Conversation not found.' },
    );
    assert.equal(connector.requests, 1);
    assert.equal(connector.received.length, 0);
  });

  it('is retried by the connector client by itself after a 429 with Retry-After, so one send can be several requests', async () => {
    const connector = await start({
      faults: ({ attempt }) => (attempt === 1 ? { status: 429, code: 'Throttled', retryAfterSeconds: 0 } : undefined),
    });

    await sendHi(unauthenticatedAdapter(), referenceTo(connector, teamsChannelId));

    assert.equal(connector.requests, 2);
    assert.equal(connector.throttled, 1);
    assert.equal(connector.received[0]?.attempt, 2);
  });
});
