import {
  defaultPageSize,
  matchesFilter,
  type ConversationKey,
  type ConversationPage,
  type ConversationStore,
  type DeleteCondition,
  type ListOptions,
  type StoredConversation,
} from './conversationStore';
import { keyOf } from './conversationKeys';

/** The in-memory twin of the table store, for unit tests; same keys, same semantics. */
export class MemoryConversationStore implements ConversationStore {
  private readonly rows = new Map<string, StoredConversation>();

  async upsert(conversation: StoredConversation): Promise<void> {
    this.rows.set(rowId(conversation), conversation);
  }

  async insert(conversation: StoredConversation): Promise<boolean> {
    const id = rowId(conversation);
    if (this.rows.has(id)) return false;
    this.rows.set(id, conversation);
    return true;
  }

  async get(key: ConversationKey): Promise<StoredConversation | undefined> {
    return this.rows.get(rowId(key));
  }

  async delete(key: ConversationKey, { notUpdatedAfter }: DeleteCondition = {}): Promise<boolean> {
    const stored = this.rows.get(rowId(key));
    if (stored === undefined) return false;
    if (notUpdatedAfter !== undefined && stored.updatedAt > notUpdatedAfter) return false;
    return this.rows.delete(rowId(key));
  }

  async list({ filter, continuationToken, pageSize = defaultPageSize }: ListOptions = {}): Promise<ConversationPage> {
    // Like the table: ordered by key, and a page holds at most pageSize rows before filtering.
    const ids = [...this.rows.keys()].sort();
    const start = continuationToken === undefined ? 0 : ids.findIndex((id) => id > continuationToken);
    if (start < 0) return { items: [] };
    const pageIds = ids.slice(start, start + pageSize);
    const items = pageIds
      .map((id) => this.rows.get(id))
      .filter((row): row is StoredConversation => row !== undefined && matchesFilter(row, filter));
    const last = pageIds[pageIds.length - 1];
    const more = start + pageSize < ids.length;
    return more && last !== undefined ? { items, continuationToken: last } : { items };
  }
}

function rowId(key: ConversationKey): string {
  const { partitionKey, rowKey } = keyOf(key);
  return `${partitionKey}\u0000${rowKey}`;
}
