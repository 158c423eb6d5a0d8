import {
  defaultPageSize,
  matchesFilter,
  type ConversationKey,
  type ConversationPage,
  type ConversationStore,
  type DeleteCondition,
  type ListOptions,
  type StoredConversation,
  type StoredTeam,
} from './conversationStore';
import { keyOf } from './conversationKeys';
import { listStoredTeams } from './storedTeams';

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
    const [id] = this.idsOf(key);
    return id === undefined ? undefined : this.rows.get(id);
  }

  async delete(key: ConversationKey, { notUpdatedAfter }: DeleteCondition = {}): Promise<boolean> {
    let deleted = false;
    for (const id of this.idsOf(key)) {
      const stored = this.rows.get(id);
      if (stored === undefined || (notUpdatedAfter !== undefined && stored.updatedAt > notUpdatedAfter)) continue;
      deleted = this.rows.delete(id) || deleted;
    }
    return deleted;
  }

  /** The row of a key with a tenant id; without one, every tenant's row of that conversation, as the table store finds them. */
  private idsOf(key: ConversationKey): string[] {
    const { tenantId } = key;
    if (tenantId !== undefined) return [rowId({ ...key, tenantId })];
    return [...this.rows.entries()]
      .filter(([, row]) => row.channelId === key.channelId && row.conversationId === key.conversationId)
      .map(([id]) => id)
      .sort();
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

  async listTeams(tenantId?: string): Promise<StoredTeam[]> {
    return listStoredTeams(this, tenantId);
  }
}

function rowId(key: ConversationKey & { readonly tenantId: string }): string {
  const { partitionKey, rowKey } = keyOf(key);
  return `${partitionKey}\u0000${rowKey}`;
}
