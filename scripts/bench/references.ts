import type { ConversationReference } from 'botbuilder';
import {
  toStoredConversation,
  type ConversationKey,
  type ConversationPage,
  type ConversationStore,
  type ListOptions,
  type StoredConversation,
  type StoredTeam,
} from '../../shared/storage/conversationStore';

/** References for the benchmark: seeded into Azurite, or made up page by page. */

function reference(serviceUrl: string, conversationId: string, tenantId: string): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: conversationId, tenantId, conversationType: 'personal', isGroup: false, name: '' },
    bot: { id: '28:bench-bot', name: 'Bench' },
    user: { id: `29:${conversationId}`, name: '', aadObjectId: '' },
  };
}

function stored(serviceUrl: string, conversationId: string, tenantId: string): StoredConversation {
  const check = toStoredConversation(reference(serviceUrl, conversationId, tenantId));
  if (!check.ok) throw new Error(check.reason);
  return check.conversation;
}

/** Conversation ids sort by tenant, so the listing is grouped by tenant (the harder order for fairness). */
export async function seedTable(store: ConversationStore, serviceUrl: string, tenants: number, perTenant: number): Promise<void> {
  const all: StoredConversation[] = [];
  for (let t = 0; t < tenants; t++) {
    for (let i = 0; i < perTenant; i++) all.push(stored(serviceUrl, `a:t${t}-c${String(i).padStart(6, '0')}`, `tenant-${t}`));
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = all[next++]; item !== undefined; item = all[next++]) await store.upsert(item);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

/** A read-only store that makes up its rows page by page: nothing is held, so RSS shows the engine alone. */
export class SyntheticConversationStore implements ConversationStore {
  constructor(
    private readonly count: number,
    private readonly tenants: number,
    private readonly serviceUrl: string,
  ) {}

  async upsert(): Promise<void> {}

  async insert(): Promise<boolean> {
    return false;
  }

  async get(): Promise<StoredConversation | undefined> {
    return undefined;
  }

  async delete(_key: ConversationKey): Promise<boolean> {
    return false;
  }

  async list({ continuationToken, pageSize = 500 }: ListOptions = {}): Promise<ConversationPage> {
    const start = continuationToken === undefined ? 0 : Number(continuationToken);
    const end = Math.min(this.count, start + pageSize);
    const items: StoredConversation[] = [];
    for (let i = start; i < end; i++) items.push(stored(this.serviceUrl, `a:synthetic-${i}`, `tenant-${i % this.tenants}`));
    return end < this.count ? { items, continuationToken: String(end) } : { items };
  }

  async listTeams(): Promise<StoredTeam[]> {
    return [];
  }
}
