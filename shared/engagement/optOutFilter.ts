import type { StoredConversation } from '../storage/conversationStore';
import { isPersonalConversation, type OptOutSet, type OptOutStore } from './optOutStore';

/**
 * The opt-outs as one broadcast run sees them: each tenant's set is read the first time one of its
 * recipients comes up, then held for the run, so a run costs one query per tenant (per 1,000
 * opt-outs of it), never one per recipient. Someone who sends "stop" during a run is skipped by the
 * next run (a queued notification: its next slice). It is the engine's OptOutCheck by shape, so
 * engagement/ stays below delivery/.
 */
export class OptOutFilter {
  private readonly tenants = new Map<string, Promise<OptOutSet>>();

  constructor(private readonly store: Pick<OptOutStore, 'tenant'>) {}

  async isOptedOut(conversation: StoredConversation): Promise<boolean> {
    if (!isPersonalConversation(conversation)) return false;
    let set = this.tenants.get(conversation.tenantId);
    if (set === undefined) {
      set = this.store.tenant(conversation.tenantId);
      this.tenants.set(conversation.tenantId, set);
      // A failed read is not kept: whoever asks next reads again.
      set.catch(() => this.tenants.delete(conversation.tenantId));
    }
    return (await set).covers(conversation);
  }
}
