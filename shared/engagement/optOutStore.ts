// engagement/: what the people notified tell the bot (today: opt-out). May import storage/ and the root utilities.
import type { StoredConversation } from '../storage/conversationStore';

/**
 * A person, as the bot sees them in a conversation: their tenant, and their
 * Teams user's AAD object id when the channel gives one, else their channel
 * user id (ids of one channel only).
 */
export interface Person {
  readonly tenantId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly aadObjectId: string;
}

/**
 * The key a person is opted out under: the AAD object id when present (the same person in every
 * channel and chat), else the channel and the channel's user id.
 */
export function personKey(person: Pick<Person, 'channelId' | 'userId' | 'aadObjectId'>): string {
  return person.aadObjectId !== '' ? aadKey(person.aadObjectId) : userKey(person.channelId, person.userId);
}

export const aadKey = (aadObjectId: string): string => `aad:${aadObjectId}`;
export const userKey = (channelId: string, userId: string): string => `user:${channelId}\n${userId}`;

/**
 * Whether a stored conversation is one person's own chat with the bot: a personal (1:1) chat. Group
 * chats and channels are everybody's in them (the user stored with them is only whoever last
 * wrote there), so an opt-out never skips them; the same rule as `target.userIds`.
 */
export function isPersonalConversation(conversation: Pick<StoredConversation, 'conversationType'>): boolean {
  return conversation.conversationType !== 'groupChat' && conversation.conversationType !== 'channel';
}

/** The opted-out people of one tenant, as loaded at once for a run. */
export class OptOutSet {
  constructor(private readonly keys: ReadonlySet<string>) {}

  get size(): number {
    return this.keys.size;
  }

  /** Whether the conversation is the personal chat of someone in the set. */
  covers(conversation: StoredConversation): boolean {
    if (this.keys.size === 0 || !isPersonalConversation(conversation)) return false;
    return (
      (conversation.aadObjectId !== '' && this.keys.has(aadKey(conversation.aadObjectId))) ||
      (conversation.userId !== '' && this.keys.has(userKey(conversation.channelId, conversation.userId)))
    );
  }
}

/**
 * Who asked the bot to stop sending them notifications. A Table implementation and an in-memory one
 * that behaves the same (tests), like the conversation store.
 */
export interface OptOutStore {
  /** Records the opt-out; returns false when the person had already opted out (nothing changes then). */
  optOut(person: Person, at?: Date): Promise<boolean>;
  /** Removes the opt-out (under either of the person's keys); returns whether there was one. */
  optIn(person: Person): Promise<boolean>;
  isOptedOut(person: Person): Promise<boolean>;
  /** Every opted-out person of the tenant, read at once (a query per 1,000 of them). */
  tenant(tenantId: string): Promise<OptOutSet>;
}

/** Both keys a person may be stored under: a row written before their AAD id was known has the channel key. */
export function keysOf(person: Person): string[] {
  const keys = [userKey(person.channelId, person.userId)];
  if (person.aadObjectId !== '') keys.unshift(aadKey(person.aadObjectId));
  return keys;
}
