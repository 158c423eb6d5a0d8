import type { ConversationReference } from 'botbuilder';
import { toStoredConversation, type ConversationStore } from '../../shared/storage/conversationStore';

export interface SeedOptions {
  readonly count: number;
  /** Conversations go round-robin to `tenant-0` … `tenant-<tenants - 1>`. */
  readonly tenants: number;
  /** Conversation ids are `<prefix>-00000`, `<prefix>-00001`, … Default `a:conv`. */
  readonly prefix?: string;
  /** First tenant number (default 0), so two seedings can use different tenants. */
  readonly firstTenant?: number;
}

/** Stores Teams personal chats whose serviceUrl is the fake connector's; returns their conversation ids. */
export async function seedConversations(store: ConversationStore, serviceUrl: string, options: SeedOptions): Promise<string[]> {
  const prefix = options.prefix ?? 'a:conv';
  const ids = Array.from({ length: options.count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      const id = ids[index] as string;
      const reference: Partial<ConversationReference> = {
        channelId: 'msteams',
        serviceUrl,
        conversation: { id, tenantId: `tenant-${(options.firstTenant ?? 0) + (index % options.tenants)}`, conversationType: 'personal', isGroup: false, name: '' },
        bot: { id: '28:bot', name: 'Notifier' },
        user: { id: `29:user-${id}`, name: '', aadObjectId: `aad-${id}` },
      };
      const check = toStoredConversation(reference);
      if (!check.ok) throw new Error(check.reason);
      await store.upsert(check.conversation);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return ids;
}
