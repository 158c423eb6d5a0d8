import type { ConversationKey } from '../storage/conversationStore';
import { chatKey, isReadUpTo, type ReadMark, type ReadReceipt, type ReadReceiptStore, type SentMessage } from './readReceiptStore';

/** A chat's index is its tenant's, as in the table. */
const tenantChat = (tenantId: string, conversation: ConversationKey): string => `${tenantId}\n${chatKey(conversation)}`;

/** The in-memory twin of TableReadReceiptStore, for unit tests: same keys, same answers. */
export class MemoryReadReceiptStore implements ReadReceiptStore {
  /** chat → notification id → the delivery, not read yet. */
  private readonly unread = new Map<string, Map<string, SentMessage>>();
  /** notification id → chat → the mark. */
  private readonly marks = new Map<string, Map<string, ReadMark>>();
  /** notification id → the chats it was indexed under (the table's listing rows). */
  private readonly sent = new Map<string, Set<string>>();

  async recordSent(messages: readonly SentMessage[]): Promise<void> {
    for (const message of messages) {
      const chat = tenantChat(message.tenantId, message.conversation);
      this.sent.set(message.notificationId, (this.sent.get(message.notificationId) ?? new Set<string>()).add(chat));
      const index = this.unread.get(chat) ?? new Map<string, SentMessage>();
      index.set(message.notificationId, message);
      this.unread.set(chat, index);
    }
  }

  async receipt(receipt: ReadReceipt): Promise<number> {
    const chat = tenantChat(receipt.tenantId, receipt.conversation);
    const index = this.unread.get(chat);
    if (index === undefined) return 0;
    let marked = 0;
    for (const [notificationId, message] of [...index]) {
      if (!isReadUpTo(message.activityId, receipt.lastReadMessageId)) continue;
      const marks = this.marks.get(notificationId) ?? new Map<string, ReadMark>();
      this.marks.set(notificationId, marks);
      if (!marks.has(chat)) {
        marks.set(chat, { conversation: message.conversation, readAt: receipt.at });
        marked += 1;
      }
      index.delete(notificationId);
    }
    if (index.size === 0) this.unread.delete(chat);
    return marked;
  }

  async count(notificationId: string): Promise<number> {
    return this.marks.get(notificationId)?.size ?? 0;
  }

  async list(notificationId: string): Promise<ReadMark[]> {
    return [...(this.marks.get(notificationId)?.values() ?? [])];
  }

  /** How many chats hold the notification as not read yet (for tests). */
  unreadOf(notificationId: string): number {
    return [...this.unread.values()].filter((index) => index.has(notificationId)).length;
  }

  async remove(notificationId: string, budget: number): Promise<number> {
    let removed = 0;
    const chats = this.sent.get(notificationId);
    for (const chat of [...(chats ?? [])]) {
      // Like the table: the chat's row (when still unread) first, then its listing row, each counted.
      if (removed >= budget) return removed;
      const index = this.unread.get(chat);
      if (index?.delete(notificationId) === true) removed += 1;
      if (index?.size === 0) this.unread.delete(chat);
      if (removed >= budget) return removed;
      chats?.delete(chat);
      removed += 1;
    }
    this.sent.delete(notificationId);
    const marks = this.marks.get(notificationId);
    if (marks === undefined) return removed;
    for (const key of [...marks.keys()]) {
      if (removed === budget) break;
      marks.delete(key);
      removed += 1;
    }
    if (marks.size === 0) this.marks.delete(notificationId);
    return removed;
  }
}
