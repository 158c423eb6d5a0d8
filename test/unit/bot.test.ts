import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TestAdapter, type Activity } from 'botbuilder';
import { NotificationBot, subscribedText, welcomeText } from '../../shared/bot/bot';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { recordingLogger } from '../support/recordingLogger';

const bot = { id: '28:bot-app-id', name: 'Notifier' };
const user = { id: '29:user-1', name: 'Ada', aadObjectId: '00000000-0000-0000-0000-0000000000a1' };
const conversation = { id: 'a:1personal-chat', conversationType: 'personal', tenantId: 'tenant-1', isGroup: false, name: '' };
const key = { channelId: 'msteams', conversationId: conversation.id };

function setup({ serviceUrl = 'https://smba.trafficmanager.net/emea/' } = {}) {
  const store = new MemoryConversationStore();
  const logger = recordingLogger();
  const notificationBot = new NotificationBot(store, logger);
  const adapter = new TestAdapter(async (context) => notificationBot.run(context));
  adapter.conversation = { channelId: 'msteams', serviceUrl, conversation, user, bot };
  const send = (activity: Partial<Activity>) => adapter.processActivity(activity);
  const replies = () => adapter.activeQueue.splice(0).map((activity) => activity.text);
  return { store, logger, send, replies };
}

describe('NotificationBot', () => {
  it('stores the reference when the bot is added to a conversation, and welcomes once', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'conversationUpdate', membersAdded: [bot, user] });
    await send({ type: 'conversationUpdate', membersAdded: [bot, user] });

    const stored = await store.get(key);
    assert.equal(stored?.serviceUrl, 'https://smba.trafficmanager.net/emea/');
    assert.equal(stored?.tenantId, 'tenant-1');
    assert.equal(stored?.aadObjectId, user.aadObjectId);
    assert.equal(stored?.conversationType, 'personal');
    assert.deepEqual(replies(), [welcomeText]);
    assert.equal((await store.list()).items.length, 1);
  });

  it('welcomes once when Teams announces an install twice at the same moment', async () => {
    const { store, send, replies } = setup();
    await Promise.all([
      send({ type: 'installationUpdate', action: 'add' }),
      send({ type: 'conversationUpdate', membersAdded: [bot] }),
    ]);
    assert.deepEqual(replies(), [welcomeText]);
    assert.equal((await store.list()).items.length, 1);
  });

  it('does not store anything when only other members join', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'conversationUpdate', membersAdded: [user] });
    assert.equal(await store.get(key), undefined);
    assert.deepEqual(replies(), []);
  });

  it('stores the reference on a Teams installationUpdate add and forgets it on remove', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'installationUpdate', action: 'add' });
    assert.ok(await store.get(key));
    assert.deepEqual(replies(), [welcomeText]);

    await send({ type: 'installationUpdate', action: 'remove' });
    assert.equal(await store.get(key), undefined);
  });

  it('keeps the reference on an installationUpdate add-upgrade without a second welcome', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'installationUpdate', action: 'add' });
    await send({ type: 'installationUpdate', action: 'add-upgrade' });
    assert.ok(await store.get(key));
    assert.deepEqual(replies(), [welcomeText]);
  });

  it('forgets the reference when the bot is removed from the conversation', async () => {
    const { store, send } = setup();
    await send({ type: 'conversationUpdate', membersAdded: [bot] });
    await send({ type: 'conversationUpdate', membersRemoved: [user] });
    assert.ok(await store.get(key), 'another member leaving keeps the reference');

    await send({ type: 'conversationUpdate', membersRemoved: [bot] });
    assert.equal(await store.get(key), undefined);
  });

  it('stores the reference on every message with the latest serviceUrl and confirms the subscription', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'message', text: 'hello' });
    await send({ type: 'message', text: 'again', serviceUrl: 'https://smba.trafficmanager.net/amer/' });

    assert.equal((await store.get(key))?.serviceUrl, 'https://smba.trafficmanager.net/amer/');
    assert.deepEqual(replies(), [subscribedText, subscribedText]);
    assert.equal((await store.list()).items.length, 1);
  });

  it('does not store a reference without a serviceUrl and logs why', async () => {
    const { store, logger, send } = setup({ serviceUrl: '' });
    await send({ type: 'message', text: 'hi' });
    assert.equal((await store.list()).items.length, 0);
    assert.match(logger.lines('warn').join('\n'), /lacks serviceUrl/);
  });

  it('does not store a conversation whose id is not well-formed Unicode', async () => {
    const { store, logger, send } = setup();
    await send({ type: 'message', text: 'hi', conversation: { ...conversation, id: 'a:1\uD800' } });
    assert.equal((await store.list()).items.length, 0);
    assert.match(logger.lines('warn').join('\n'), /not well-formed/);
  });
});
