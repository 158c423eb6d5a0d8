/**
 * The fake Bot Connector's memory of what each conversation shows: every accepted POST adds a
 * message under the id it was answered with; an accepted PUT replaces it, an accepted DELETE
 * removes it. Used by scripts/fakeConnector.ts; tests read it through `FakeConnector.messages`.
 */

export interface FakeMessage {
  readonly id: string;
  readonly text?: string;
  readonly attachmentCount: number;
  /** Updates it went through (0: as first sent). */
  readonly updates: number;
  /** Only with `recordActivities: true`. */
  readonly activity?: Readonly<Record<string, unknown>>;
}

/** What a PUT or DELETE of an activity did, by outcome. */
export interface ActivityChangeCounts {
  /** Accepted PUTs (200). */
  readonly updated: number;
  /** Accepted DELETEs (200). */
  readonly deleted: number;
  /** PUTs and DELETEs of an id the conversation does not hold (404). */
  readonly unknown: number;
}

export type ActivityChange = { readonly kind: 'update'; readonly activity: Record<string, unknown> } | { readonly kind: 'delete' };

export class ConversationMessages {
  private readonly byConversation = new Map<string, Map<string, FakeMessage>>();
  /** The tenant each conversation was last sent to: a DELETE carries no body to tell it. */
  private readonly tenants = new Map<string, string>();
  private readonly updatesByConversation = new Map<string, number>();
  counts: ActivityChangeCounts = { updated: 0, deleted: 0, unknown: 0 };

  add(conversationId: string, tenantId: string, message: FakeMessage): void {
    let messages = this.byConversation.get(conversationId);
    if (messages === undefined) {
      messages = new Map();
      this.byConversation.set(conversationId, messages);
    }
    messages.set(message.id, message);
    if (tenantId !== 'unknown') this.tenants.set(conversationId, tenantId);
  }

  tenantOf(conversationId: string): string {
    return this.tenants.get(conversationId) ?? 'unknown';
  }

  has(conversationId: string, activityId: string): boolean {
    return this.byConversation.get(conversationId)?.has(activityId) === true;
  }

  /** Applies an accepted change to a message the conversation holds (check `has` first). */
  apply(conversationId: string, activityId: string, change: ActivityChange, keepActivity: boolean): void {
    const messages = this.byConversation.get(conversationId);
    const current = messages?.get(activityId);
    if (messages === undefined || current === undefined) return;
    if (change.kind === 'delete') {
      messages.delete(activityId);
      this.counts = { ...this.counts, deleted: this.counts.deleted + 1 };
      return;
    }
    const { activity } = change;
    messages.set(activityId, {
      id: activityId,
      ...(typeof activity['text'] === 'string' ? { text: activity['text'] } : {}),
      attachmentCount: Array.isArray(activity['attachments']) ? activity['attachments'].length : 0,
      updates: current.updates + 1,
      ...(keepActivity ? { activity } : {}),
    });
    this.updatesByConversation.set(conversationId, (this.updatesByConversation.get(conversationId) ?? 0) + 1);
    this.counts = { ...this.counts, updated: this.counts.updated + 1 };
  }

  noteUnknown(): void {
    this.counts = { ...this.counts, unknown: this.counts.unknown + 1 };
  }

  /** The conversation's messages as it shows them now, in the order they were first sent. */
  of(conversationId: string): FakeMessage[] {
    return [...(this.byConversation.get(conversationId)?.values() ?? [])];
  }

  /** Messages shown in all conversations together. */
  total(): number {
    let total = 0;
    for (const messages of this.byConversation.values()) total += messages.size;
    return total;
  }

  /** Accepted PUTs to one conversation. */
  updatesOf(conversationId: string): number {
    return this.updatesByConversation.get(conversationId) ?? 0;
  }

  clear(): void {
    this.byConversation.clear();
    this.tenants.clear();
    this.updatesByConversation.clear();
    this.counts = { updated: 0, deleted: 0, unknown: 0 };
  }
}
