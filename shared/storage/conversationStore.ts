// storage/: conversation references at rest: the store interface, its memory and Table
// implementations, key encoding and the Table client. May import only the root utilities.
import type { ConversationReference } from 'botbuilder';

/**
 * Identifies one stored conversation: ids are only unique within a channel,
 * and a conversation belongs to one tenant (part of its table key). Without
 * the tenant id, the store looks the conversation up by its ids (a query over
 * the table rather than a point read).
 */
export interface ConversationKey {
  readonly channelId: string;
  readonly conversationId: string;
  readonly tenantId?: string;
}

/** A conversation reference as stored, with the columns used for targeting. */
export interface StoredConversation extends ConversationKey {
  readonly reference: Partial<ConversationReference>;
  readonly serviceUrl: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly aadObjectId: string;
  /** Teams: `personal`, `groupChat` or `channel`; other channels: what they send, often empty. */
  readonly conversationType: string;
  /** Teams channels only: the team the channel belongs to (absent on rows stored before teams were captured). */
  readonly teamId?: string;
  /** The team's name as Teams last announced it (absent when Teams did not say). */
  readonly teamName?: string;
  readonly updatedAt: Date;
}

/** Each field narrows the set; values within one field are alternatives. */
export interface ConversationFilter {
  readonly conversationIds?: readonly string[];
  /**
   * A user's own (1:1) conversations with the bot, by the user's channel id or
   * AAD object id. Group chats and channels are not matched: the user stored
   * with them is only whoever last wrote there.
   */
  readonly userIds?: readonly string[];
  readonly tenantIds?: readonly string[];
  readonly channelIds?: readonly string[];
  readonly conversationTypes?: readonly string[];
}

export interface DeleteCondition {
  /**
   * Delete only if the stored entry was not updated after this time (pruning
   * must not remove a reference the bot saved again meanwhile). An entry
   * updated later is kept, and delete returns false.
   */
  readonly notUpdatedAfter?: Date;
}

export interface ConversationPage {
  readonly items: readonly StoredConversation[];
  /** Absent on the last page. A page may be empty and still have a token. */
  readonly continuationToken?: string;
}

export interface ListOptions {
  readonly filter?: ConversationFilter;
  readonly continuationToken?: string;
  readonly pageSize?: number;
}

export interface ConversationStore {
  /** Inserts or replaces: the same conversation is always one entry. */
  upsert(conversation: StoredConversation): Promise<void>;
  /**
   * Adds the conversation only if it is not stored yet; returns whether it was
   * added. Atomic: of two concurrent inserts of one conversation, one wins.
   */
  insert(conversation: StoredConversation): Promise<boolean>;
  get(key: ConversationKey): Promise<StoredConversation | undefined>;
  /** Returns whether something was deleted; deleting a missing key is not an error. */
  delete(key: ConversationKey, condition?: DeleteCondition): Promise<boolean>;
  /**
   * In key order: each tenant's conversations together (within a tenant, by
   * hash bucket, then conversation id). Follow the continuation token to the
   * end: a page may be empty and still have one.
   */
  list(options?: ListOptions): Promise<ConversationPage>;
  /**
   * The teams the bot is in, as captured from their channels (one entry a
   * team), optionally of one tenant. Costs one listing of the tenant's
   * references (or the whole table's) with a server-side filter on the
   * conversation type: teams are few, but the rows read are all of the range.
   */
  listTeams(tenantId?: string): Promise<StoredTeam[]>;
}

/** A team the bot was added to, with the reference of its channel (the General channel when stored). */
export interface StoredTeam {
  readonly tenantId: string;
  readonly teamId: string;
  /** Empty when Teams never told the bot the team's name. */
  readonly teamName: string;
  readonly serviceUrl: string;
  readonly conversation: StoredConversation;
}

export const defaultPageSize = 500;

/** All pages of a listing, one page in memory at a time. */
export async function* listAll(
  store: Pick<ConversationStore, 'list'>,
  filter?: ConversationFilter,
  pageSize = defaultPageSize,
): AsyncGenerator<StoredConversation> {
  let continuationToken: string | undefined;
  do {
    const page = await store.list({ filter, continuationToken, pageSize });
    yield* page.items;
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined);
}

const groupConversationTypes = ['groupChat', 'channel'];

export function matchesFilter(conversation: StoredConversation, filter: ConversationFilter | undefined): boolean {
  if (!filter) return true;
  const allows = (values: readonly string[] | undefined, ...candidates: string[]): boolean =>
    values === undefined || candidates.some((candidate) => candidate !== '' && values.includes(candidate));
  return (
    allows(filter.conversationIds, conversation.conversationId) &&
    (filter.userIds === undefined || !groupConversationTypes.includes(conversation.conversationType)) &&
    allows(filter.userIds, conversation.userId, conversation.aadObjectId) &&
    allows(filter.tenantIds, conversation.tenantId) &&
    allows(filter.channelIds, conversation.channelId) &&
    allows(filter.conversationTypes, conversation.conversationType)
  );
}

export type ReferenceCheck =
  | { readonly ok: true; readonly conversation: StoredConversation }
  | { readonly ok: false; readonly reason: string };

/**
 * The conversation a notification goes to. In a Teams channel, a message in
 * a thread carries the thread in its id (`19:...@thread.tacv2;messageid=...`);
 * a notification is a new post in the channel, so every thread maps to the
 * channel itself and the channel is stored once.
 */
export function subscriptionConversationId(conversation: { readonly id: string; readonly conversationType?: string }): string {
  return conversation.conversationType === 'channel' ? conversation.id.replace(/;messageid=[^;]*$/, '') : conversation.id;
}

/**
 * Turns a reference into what the store keeps, or says why it cannot be used
 * for a proactive send later (then it must not be stored).
 */
export function toStoredConversation(reference: Partial<ConversationReference>, now = new Date(), team?: TeamOfActivity): ReferenceCheck {
  const { conversation, channelId, serviceUrl } = reference;
  const missing: string[] = [];
  if (!conversation?.id) missing.push('conversation.id');
  if (!serviceUrl) missing.push('serviceUrl');
  if (!channelId) missing.push('channelId');
  if (!reference.bot?.id) missing.push('bot.id');
  if (!conversation?.id || !serviceUrl || !channelId || missing.length > 0) {
    return { ok: false, reason: `reference lacks ${missing.join(', ')}` };
  }
  const conversationId = subscriptionConversationId(conversation);
  // A lone surrogate would escape to the same key as U+FFFD and overwrite another conversation.
  if (!conversationId.isWellFormed() || !channelId.isWellFormed()) {
    return { ok: false, reason: 'conversation.id or channelId is not well-formed Unicode' };
  }
  return {
    ok: true,
    conversation: {
      channelId,
      conversationId,
      serviceUrl,
      reference: { ...reference, conversation: { ...conversation, id: conversationId } },
      tenantId: conversation.tenantId ?? '',
      userId: reference.user?.id ?? '',
      aadObjectId: reference.user?.aadObjectId ?? '',
      conversationType: conversation.conversationType ?? '',
      ...(conversation.conversationType === 'channel' ? teamColumns(team) : {}),
      updatedAt: now,
    },
  };
}

/** What a Teams activity's `channelData.team` says of the team a channel belongs to. */
export interface TeamOfActivity {
  readonly id?: string;
  readonly name?: string;
}

function teamColumns(team: TeamOfActivity | undefined): Pick<StoredConversation, 'teamId' | 'teamName'> {
  if (team?.id === undefined || team.id === '') return {};
  return team.name === undefined || team.name === '' ? { teamId: team.id } : { teamId: team.id, teamName: team.name };
}

