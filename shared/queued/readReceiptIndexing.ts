import type { ReadReceiptStore, SentMessage } from '../engagement/readReceiptStore';
import { isPersonalConversation } from '../engagement/optOutStore';
import type { Logger } from '../logger';
import { deliveryRowKey, type DeliveredChat } from '../ledgers/deliveryLedgers';
import type { ConversationKey, StoredConversation } from '../storage/conversationStore';

export interface ReadReceiptIndexing {
  /** Notes a delivery (recorded in the ledger) of the batch; `chat` is the personal chat that reached a person. */
  delivered(key: ConversationKey, activityId: string | undefined, chat?: DeliveredChat): void;
  /** Writes what was noted; resolves when every write has ended (a failed one is logged). */
  index(): Promise<void>;
}

/**
 * What the deliverer does for read receipts with a batch's deliveries: each one to a personal chat,
 * whose message id the channel gave, is indexed under its chat, the batch's together (a few Table
 * transactions), after the batch is sent and before it is counted, so a send is not held up by it
 * and a finished batch's deliveries are indexed. Teams sends read receipts in personal chats only, so nothing else is indexed. A
 * person reached through an audience source is recorded under their own key with the personal chat
 * that reached them (`chat`): that chat is indexed, like a stored personal conversation. A failed
 * write is logged and the deliveries stand: the message was delivered, only its reading goes unseen;
 * so does a crash between the sends and the writes (the redo finds them delivered).
 */
export function readReceiptIndexing(
  readReceipts: Pick<ReadReceiptStore, 'recordSent'> | undefined,
  notificationId: string,
  tenantId: string,
  batch: readonly StoredConversation[],
  logger: Logger,
): ReadReceiptIndexing {
  const personal = new Set(batch.filter((conversation) => isPersonalConversation(conversation)).map((conversation) => deliveryRowKey(conversation)));
  const noted: SentMessage[] = [];
  return {
    delivered: (key, activityId, chat) => {
      if (readReceipts === undefined || activityId === undefined || (chat === undefined && !personal.has(deliveryRowKey(key)))) return;
      noted.push({ notificationId, tenantId, conversation: { channelId: key.channelId, conversationId: chat?.conversationId ?? key.conversationId }, activityId });
    },
    index: async () => {
      if (readReceipts === undefined || noted.length === 0) return;
      try {
        await readReceipts.recordSent(noted);
      } catch (error) {
        logger.warn(`Notification ${notificationId}: delivered ${noted.length} messages to personal chats but could not index them for read receipts: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}
