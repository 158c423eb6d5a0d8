import type { ReadReceiptStore } from '../engagement/readReceiptStore';
import { isPersonalConversation } from '../engagement/optOutStore';
import type { Logger } from '../logger';
import { deliveryRowKey, type DeliveredChat } from '../ledgers/deliveryLedgers';
import type { ConversationKey, StoredConversation } from '../storage/conversationStore';

/**
 * What the deliverer does once a delivery is recorded in the ledger, for read receipts: a delivery to
 * a personal chat, whose message id the channel gave, is indexed under its chat (one write). Teams
 * sends read receipts in personal chats only, so nothing else is indexed. A person reached through an
 * audience source is recorded under their own key with the personal chat that reached them
 * (`chat`): that chat is indexed, like a stored personal conversation. A failed write is logged
 * and the delivery stands: the message was delivered, only its reading goes unseen.
 */
export function readReceiptIndexing(
  readReceipts: Pick<ReadReceiptStore, 'recordSent'> | undefined,
  notificationId: string,
  batch: readonly StoredConversation[],
  logger: Logger,
): (key: ConversationKey, activityId: string | undefined, chat?: DeliveredChat) => Promise<void> {
  if (readReceipts === undefined) return async () => {};
  const personal = new Set(batch.filter((conversation) => isPersonalConversation(conversation)).map((conversation) => deliveryRowKey(conversation)));
  return async (key, activityId, chat) => {
    if (activityId === undefined || (chat === undefined && !personal.has(deliveryRowKey(key)))) return;
    const conversation = { channelId: key.channelId, conversationId: chat?.conversationId ?? key.conversationId };
    try {
      await readReceipts.recordSent({ notificationId, conversation, activityId });
    } catch (error) {
      logger.warn(`Notification ${notificationId}: delivered to ${conversation.conversationId} but could not index it for read receipts: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
