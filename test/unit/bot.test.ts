import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TestAdapter, type Activity } from 'botbuilder';
import { NotificationBot } from '../../shared/bot/bot';
import { tryAgainText, welcomeText } from '../../shared/bot/botTexts';
import { OptOutTableUnavailableError } from '../../shared/engagement/tableOptOutStore';
import { MemoryOptOutStore } from '../../shared/engagement/memoryOptOutStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { recordingLogger } from '../support/recordingLogger';

const bot = { id: '28:bot-app-id', name: 'Notifier' };
const user = { id: '29:user-1', name: 'Ada', aadObjectId: '00000000-0000-0000-0000-0000000000a1' };
const conversation = { id: 'a:1personal-chat', conversationType: 'personal', tenantId: 'tenant-1', isGroup: false, name: '' };
const key = { channelId: 'msteams', conversationId: conversation.id };

const welcome = welcomeText('personal', { optOutAllowed: true });

function setup({ serviceUrl = 'https://smba.trafficmanager.net/emea/', optOut = true, chat = conversation } = {}) {
  const store = new MemoryConversationStore();
  const optOuts = new MemoryOptOutStore();
  const logger = recordingLogger();
  const notificationBot = new NotificationBot(store, logger, optOut ? { optOuts } : {});
  const adapter = new TestAdapter(async (context) => notificationBot.run(context));
  adapter.conversation = { channelId: 'msteams', serviceUrl, conversation: chat, user, bot };
  const send = (activity: Partial<Activity>) => adapter.processActivity(activity);
  const sent = () => adapter.activeQueue.splice(0);
  /** What the person reads: the text, or the text of a card's first block. */
  const replies = () => sent().map(readable);
  const person = { tenantId: 'tenant-1', channelId: 'msteams', userId: user.id, aadObjectId: user.aadObjectId };
  return { store, optOuts, logger, send, sent, replies, person };
}

interface CardContent {
  readonly body?: readonly { readonly text?: string }[];
  readonly actions?: readonly { readonly type: string; readonly title: string; readonly data: { readonly msteams?: { readonly type: string; readonly text: string } } }[];
}

function cardOf(activity: Partial<Activity>): CardContent | undefined {
  return activity.attachments?.[0]?.content as CardContent | undefined;
}

function readable(activity: Partial<Activity>): string | undefined {
  return activity.text ?? cardOf(activity)?.body?.[0]?.text;
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
    assert.deepEqual(replies(), [welcome]);
    assert.equal((await store.list()).items.length, 1);
  });

  it('welcomes once when Teams announces an install twice at the same moment', async () => {
    const { store, send, replies } = setup();
    await Promise.all([
      send({ type: 'installationUpdate', action: 'add' }),
      send({ type: 'conversationUpdate', membersAdded: [bot] }),
    ]);
    assert.deepEqual(replies(), [welcome]);
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
    assert.deepEqual(replies(), [welcome]);

    await send({ type: 'installationUpdate', action: 'remove' });
    assert.equal(await store.get(key), undefined);
  });

  it('keeps the reference on an installationUpdate add-upgrade without a second welcome', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'installationUpdate', action: 'add' });
    await send({ type: 'installationUpdate', action: 'add-upgrade' });
    assert.ok(await store.get(key));
    assert.deepEqual(replies(), [welcome]);
  });

  it('forgets the reference when the bot is removed from the conversation', async () => {
    const { store, send } = setup();
    await send({ type: 'conversationUpdate', membersAdded: [bot] });
    await send({ type: 'conversationUpdate', membersRemoved: [user] });
    assert.ok(await store.get(key), 'another member leaving keeps the reference');

    await send({ type: 'conversationUpdate', membersRemoved: [bot] });
    assert.equal(await store.get(key), undefined);
  });

  it('stores the reference on every message with the latest serviceUrl and answers with the help', async () => {
    const { store, send, replies } = setup();
    await send({ type: 'message', text: 'hello' });
    await send({ type: 'message', text: 'again', serviceUrl: 'https://smba.trafficmanager.net/amer/' });

    assert.equal((await store.get(key))?.serviceUrl, 'https://smba.trafficmanager.net/amer/');
    const [first, second] = replies();
    assert.equal(first, second);
    assert.match(first ?? '', /notifications/);
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

  describe('opt-out, in words for the person in Teams', () => {
    /** Endpoints, settings, operator words: nothing a person in Teams could act on. */
    const operatorDetail = /\/api\/|https?:|NOTIFY_|setting|endpoint|function app|\bGET\b|\bPOST\b/;

    it('"stop" in a personal chat turns notifications off and says so plainly; "start" turns them back on', async () => {
      const { optOuts, send, replies, person } = setup();
      await send({ type: 'message', text: 'stop' });
      assert.equal(await optOuts.isOptedOut(person), true);
      const [stopped] = replies();
      assert.match(stopped ?? '', /not get notifications/);
      assert.match(stopped ?? '', /"start"/);

      await send({ type: 'message', text: 'Start' });
      assert.equal(await optOuts.isOptedOut(person), false);
      assert.match(replies()[0] ?? '', /get notifications from me again/);
    });

    it('"stop" twice keeps one opt-out and says it is already off', async () => {
      const { optOuts, send, replies, person } = setup();
      await send({ type: 'message', text: 'stop' });
      await send({ type: 'message', text: ' STOP. ' });
      assert.equal(await optOuts.isOptedOut(person), true);
      assert.match(replies()[1] ?? '', /already turned off/);
    });

    it('the help card has a button that sends "stop" as a Teams messageBack, and "start" once stopped', async () => {
      const { send, sent } = setup();
      await send({ type: 'message', text: 'help' });
      const [helpCard] = sent();
      const action = cardOf(helpCard ?? {})?.actions?.[0];
      assert.equal(action?.type, 'Action.Submit');
      assert.equal(action?.title, 'Stop notifications');
      assert.deepEqual(action?.data.msteams, { type: 'messageBack', text: 'stop', displayText: 'stop' });

      await send({ type: 'message', text: 'stop' });
      sent();
      await send({ type: 'message', text: 'what is this?' });
      assert.equal(cardOf(sent()[0] ?? {})?.actions?.[0]?.title, 'Start notifications');
    });

    it('the button works where the channel sends the card data instead of text', async () => {
      const { optOuts, send, person } = setup();
      await send({ type: 'message', value: { command: 'stop' } });
      assert.equal(await optOuts.isOptedOut(person), true);
    });

    it('the welcome, the help and every answer name no endpoint, setting or operator detail', async () => {
      for (const optOut of [true, false]) {
        for (const chat of [conversation, { ...conversation, id: '19:team@thread.tacv2', conversationType: 'channel', isGroup: true }]) {
          const { send, replies } = setup({ optOut, chat });
          await send({ type: 'installationUpdate', action: 'add' });
          for (const text of ['hello', 'stop', 'stop', 'hello', 'start', 'start']) await send({ type: 'message', text });
          const said = replies();
          assert.equal(said.length, 7);
          for (const line of said) assert.doesNotMatch(line ?? '', operatorDetail, `${line} (optOut ${optOut}, ${chat.conversationType})`);
        }
      }
    });

    it('in a channel "stop" changes nothing and explains that notifications there go to everyone', async () => {
      const { optOuts, send, replies, person } = setup({ chat: { ...conversation, id: '19:team@thread.tacv2', conversationType: 'channel', isGroup: true } });
      await send({ type: 'message', text: 'stop' });
      assert.equal(await optOuts.isOptedOut(person), false);
      assert.match(replies()[0] ?? '', /everyone in this conversation/);
    });

    it('when the opt-outs cannot be reached, "stop" is answered with a plain try-again, and the outage is logged', async () => {
      const store = new MemoryConversationStore();
      const logger = recordingLogger();
      const down = new OptOutTableUnavailableError('optOut', new Error('ECONNREFUSED'));
      const unreachable = { optOut: () => Promise.reject(down), optIn: () => Promise.reject(down), isOptedOut: () => Promise.reject(down), tenant: () => Promise.reject(down) };
      const adapter = new TestAdapter(async (context) => new NotificationBot(store, logger, { optOuts: unreachable }).run(context));
      adapter.conversation = { channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/emea/', conversation, user, bot };
      await adapter.processActivity({ type: 'message', text: 'stop' });
      assert.deepEqual(adapter.activeQueue.splice(0).map((activity) => activity.text), [tryAgainText]);
      assert.match(logger.lines('error').join('\n'), /Opt-out table unavailable/);
    });

    it('with opt-out turned off, the welcome and help do not offer it and "stop" gets a plain no', async () => {
      const { send, sent, replies } = setup({ optOut: false });
      await send({ type: 'installationUpdate', action: 'add' });
      await send({ type: 'message', text: 'hello' });
      const [welcomed, helped] = sent();
      for (const activity of [welcomed, helped]) {
        assert.doesNotMatch(readable(activity ?? {}) ?? '', /stop/i);
        assert.equal(activity?.attachments, undefined, 'no button');
      }
      await send({ type: 'message', text: 'stop' });
      assert.match(replies()[0] ?? '', /cannot be turned off/);
    });
  });
});
