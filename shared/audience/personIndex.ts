import type { StoredConversation } from '../storage/conversationStore';

/**
 * A person's personal conversation with the bot, by (tenant, Entra object id):
 * one point read instead of a scan of the tenant's references. Written when
 * reach opens or installs a chat for someone.
 */
export interface PersonIndex {
  get(tenantId: string, aadObjectId: string): Promise<StoredConversation | undefined>;
  put(conversation: StoredConversation): Promise<void>;
}

export class MemoryPersonIndex implements PersonIndex {
  private readonly entries = new Map<string, StoredConversation>();

  async get(tenantId: string, aadObjectId: string): Promise<StoredConversation | undefined> {
    return this.entries.get(JSON.stringify([tenantId, aadObjectId.toLowerCase()]));
  }

  async put(conversation: StoredConversation): Promise<void> {
    this.entries.set(JSON.stringify([conversation.tenantId, conversation.aadObjectId.toLowerCase()]), conversation);
  }
}
