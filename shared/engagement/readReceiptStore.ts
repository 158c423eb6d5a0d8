import type { ConversationKey } from '../storage/conversationStore';

/**
 * Read receipts. Teams tells a bot, in personal chats only and for people who have read receipts
 * on, the id of the last message the person read there (`application/vnd.microsoft.readReceipt`,
 * `value.lastReadMessageId`); every message up to it is read.
 *
 * So that a receipt finds what it covers without scanning any notification's audience, each
 * delivery to a personal chat is indexed under its conversation as it is sent; a receipt reads that
 * conversation's index (only messages not read yet are in it), marks each message at or before
 * the last one read, counts the mark beside the notification's marks (engagement/countedRows.ts),
 * and takes it out of the index. The notification also lists the chats it was indexed under, so
 * retention can empty the indexes of chats that never send a receipt. Cost: a batch's deliveries
 * are written together, a transaction per 100 rows of a partition (the listing is one partition,
 * the index 16 buckets of the tenant's chats), so about 17 requests per 100 deliveries; per receipt, two
 * queries of the chat's unread notifications (today's rows and those of the first layout), and a read, a transaction and a delete per message it
 * newly covers (a receipt that covers nothing new costs the query alone). The status reads a
 * notification's `read` in one query of 8 counter rows, whatever its audience.
 */

/** One notification delivered to one personal chat, with the id the channel gave the message. */
export interface SentMessage {
  readonly notificationId: string;
  /** The chat's tenant: its index is kept per tenant. */
  readonly tenantId: string;
  readonly conversation: ConversationKey;
  readonly activityId: string;
}

export interface ReadReceipt {
  /** The chat's tenant, as the receipt's activity names it. */
  readonly tenantId: string;
  readonly conversation: ConversationKey;
  /** The id of the last message the person read in the chat. */
  readonly lastReadMessageId: string;
  readonly at: Date;
}

/** A delivery marked read. */
export interface ReadMark {
  readonly conversation: ConversationKey;
  readonly readAt: Date;
}

export interface ReadReceiptStore {
  /** Indexes deliveries under their chats, for the receipts to come. */
  recordSent(messages: readonly SentMessage[]): Promise<void>;
  /** Marks every indexed delivery of the chat up to the last read message; returns how many were newly marked. */
  receipt(receipt: ReadReceipt): Promise<number>;
  /** How many deliveries of the notification were read: a read of a few counter rows. */
  count(notificationId: string): Promise<number>;
  /** Every read mark of the notification (the export): a query per 1,000. */
  list(notificationId: string): Promise<ReadMark[]>;
  /**
   * Deletes up to `budget` rows of the notification: its rows in the chats' unread indexes (with
   * its listing of them), then its read marks; fewer than `budget` when none is left.
   */
  remove(notificationId: string, budget: number): Promise<number>;
}

/**
 * Whether a message is covered by a receipt. Teams' message ids in personal chats are numbers (the
 * milliseconds of the message), compared as numbers: "999" comes before "1000". An id that is not
 * a number is never taken as read.
 */
export function isReadUpTo(activityId: string, lastReadMessageId: string): boolean {
  const number = /^\d{1,40}$/;
  if (!number.test(activityId) || !number.test(lastReadMessageId)) return false;
  return BigInt(activityId) <= BigInt(lastReadMessageId);
}

/** The text key of a chat (channel and conversation id), for maps. */
export function chatKey({ channelId, conversationId }: ConversationKey): string {
  return `${channelId}\n${conversationId}`;
}
