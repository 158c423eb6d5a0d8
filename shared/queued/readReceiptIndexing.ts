import type { ReadReceiptStore } from '../engagement/readReceiptStore';
import { isPersonalConversation } from '../engagement/optOutStore';
import type { Logger } from '../logger';
import { deliveryRowKey } from '../ledgers/deliveryLedgers';
import type { ConversationKey, StoredConversation } from '../storage/conversationStore';

/**
 * What the deliverer does once a delivery is recorded in the ledger, for read receipts: a delivery to
 * a personal chat, whose message id the channel gave, is indexed under its chat (one write). Teams
 * sends read receipts in personal chats only, so nothing else is indexed. A failed write is logged
 * and the delivery stands: the message was delivered, only its reading goes unseen.
 */
export function readReceiptIndexing(
  readReceipts: Pick<ReadReceiptStore, 'recordSent'> | undefined,
  notificationId: string,
  batch: readonly StoredConversation[],
  logger: Logger,
): (key: ConversationKey, activityId: string | undefined) => Promise<void> {
  if (readReceipts === undefined) return async () => {};
  const personal = new Set(batch.filter((conversation) => isPersonalConversation(conversation)).map((conversation) => deliveryRowKey(conversation)));
  return async (key, activityId) => {
    if (activityId === undefined || !personal.has(deliveryRowKey(key))) return;
    try {
      await readReceipts.recordSent({ notificationId, conversation: { channelId: key.channelId, conversationId: key.conversationId }, activityId });
    } catch (error) {
      logger.warn(`Notification ${notificationId}: delivered to ${key.conversationId} but could not index it for read receipts: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
