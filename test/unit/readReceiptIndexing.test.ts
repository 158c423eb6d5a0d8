import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MemoryReadReceiptStore } from '../../shared/engagement/memoryReadReceiptStore';
import { readReceiptIndexing } from '../../shared/queued/readReceiptIndexing';
import { conversation } from '../support/conversationStoreContract';
import { recordingLogger } from '../support/recordingLogger';

describe('indexing deliveries for read receipts', () => {
  it("a person reached through an audience source is indexed under the chat that reached them, so a receipt there marks the delivery read", async () => {
    const readReceipts = new MemoryReadReceiptStore();
    const indexing = readReceiptIndexing(readReceipts, 'n-1', 't-1', [], recordingLogger());
    indexing.delivered({ channelId: 'msteams', conversationId: 'person:aad-1' }, '1700000000005', { conversationId: 'a:1opened-chat', serviceUrl: 'https://smba.example/' });
    await indexing.index();

    assert.equal(await readReceipts.receipt({ tenantId: 't-1', conversation: { channelId: 'msteams', conversationId: 'a:1opened-chat' }, lastReadMessageId: '1700000000006', at: new Date() }), 1);
    assert.deepEqual((await readReceipts.list('n-1')).map((mark) => mark.conversation.conversationId), ['a:1opened-chat']);
  });

  it('a stored personal chat is indexed under itself; a channel, where Teams sends no receipts, is not indexed', async () => {
    const readReceipts = new MemoryReadReceiptStore();
    const personal = conversation('a:1stored-chat', { conversationType: 'personal' });
    const channel = conversation('19:general@thread.tacv2', { conversationType: 'channel' });
    const indexing = readReceiptIndexing(readReceipts, 'n-2', 't-1', [personal, channel], recordingLogger());
    indexing.delivered(personal, '1700000000005');
    indexing.delivered(channel, '1700000000005');
    await indexing.index();

    for (const chat of [personal, channel]) await readReceipts.receipt({ tenantId: 't-1', conversation: chat, lastReadMessageId: '1700000000009', at: new Date() });
    assert.deepEqual((await readReceipts.list('n-2')).map((mark) => mark.conversation.conversationId), ['a:1stored-chat']);
  });
});
