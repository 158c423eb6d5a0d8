import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TestAdapter, type Activity } from 'botbuilder';
import { NotificationBot, readReceiptEventName } from '../../shared/bot/bot';
import { MemoryReadReceiptStore } from '../../shared/engagement/memoryReadReceiptStore';
import { isReadUpTo } from '../../shared/engagement/readReceiptStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { recordingLogger } from '../support/recordingLogger';

const chat = { id: 'a:1personal-chat', conversationType: 'personal', tenantId: 'tenant-1', isGroup: false, name: '' };
const key = { channelId: 'msteams', conversationId: chat.id };

function setup() {
  const readReceipts = new MemoryReadReceiptStore();
  const logger = recordingLogger();
  const bot = new NotificationBot(new MemoryConversationStore(), logger, { readReceipts });
  const adapter = new TestAdapter(async (context) => bot.run(context));
  adapter.conversation = { channelId: 'msteams', serviceUrl: 'https://smba.example/', conversation: chat, user: { id: '29:ada', name: 'Ada' }, bot: { id: '28:bot', name: 'Notifier' } };
  const receipt = (value: unknown): Promise<void> => adapter.processActivity({ type: 'event', name: readReceiptEventName, value } as Partial<Activity>);
  return { readReceipts, logger, receipt, sent: () => adapter.activeQueue.splice(0) };
}

describe('read receipts', () => {
  it('a receipt in a personal chat marks the notifications delivered there up to the last message read, and the bot says nothing', async () => {
    const { readReceipts, receipt, sent } = setup();
    await readReceipts.recordSent([{ tenantId: 'tenant-1', notificationId: 'n-1', conversation: key, activityId: '1700000000005' }]);
    await readReceipts.recordSent([{ tenantId: 'tenant-1', notificationId: 'n-2', conversation: key, activityId: '1700000000009' }]);
    await receipt({ lastReadMessageId: '1700000000007' });
    assert.deepEqual([await readReceipts.count('n-1'), await readReceipts.count('n-2')], [1, 0]);
    assert.deepEqual(sent(), []);
  });

  it('a receipt without a last read message id changes nothing and is logged', async () => {
    const { readReceipts, receipt, logger } = setup();
    await readReceipts.recordSent([{ tenantId: 'tenant-1', notificationId: 'n-1', conversation: key, activityId: '5' }]);
    await receipt({});
    await receipt(undefined);
    assert.equal(await readReceipts.count('n-1'), 0);
    assert.equal(logger.lines('warn').length, 2);
  });

  it('compares message ids as numbers of any length, and never takes a non-number as read', () => {
    assert.equal(isReadUpTo('999', '1000'), true);
    assert.equal(isReadUpTo('1000', '999'), false);
    assert.equal(isReadUpTo('1700000000000000000001', '1700000000000000000002'), true, 'past the precision of a JavaScript number');
    assert.equal(isReadUpTo('1700000000000000000003', '1700000000000000000002'), false);
    assert.equal(isReadUpTo('1:abc', '9999'), false);
    assert.equal(isReadUpTo('5', ''), false);
  });
});
