import type { Activity } from 'botbuilder';
import type { DeliveryLedger } from '../ledgers/deliveryLedgers';
import type { ConversationFilter, StoredConversation } from '../storage/conversationStore';
import type { SendOptions } from './proactiveSender';

/** Who asked not to be notified (shared/engagement/): a recipient it covers is skipped and counted in `optedOut`. */
export interface OptOutCheck {
  /** Rejects when the opt-outs cannot be read: the run then stops rather than send to someone who said stop. */
  isOptedOut(conversation: StoredConversation): Promise<boolean>;
}

/** One notification to send to every stored conversation that matches the filter. */
export interface BroadcastRequest {
  /** The notification id: client-chosen for idempotent retries, generated otherwise. */
  readonly id: string;
  /** What each conversation receives (text and/or attachments). */
  readonly activity: Partial<Activity>;
  readonly filter?: ConversationFilter;
  /** Present when the caller chose the id: recipients it already holds are skipped, new deliveries are recorded. */
  readonly ledger?: DeliveryLedger;
  /** Overrides settings.deadlineSeconds for this run. */
  readonly deadlineSeconds?: number;
  /**
   * Aborting stops the run as a refused credential does: nothing new is sent, attempts in flight finish,
   * the rest is counted in notAttempted, and `stoppedEarly` gives the abort reason (queued notifications: a cancel).
   */
  readonly signal?: AbortSignal;
  /** Absent when opt-out is turned off (NOTIFY_ALLOW_OPT_OUT=false): nobody is skipped. */
  readonly optOuts?: OptOutCheck;
  /**
   * People to reach in a personal chat, beside the stored conversations the filter selects (a filter
   * that matches nothing, e.g. `{ conversationIds: [] }`, sends to these alone). Each one's chat is
   * found or opened by the engine's `personalConversations` (counted in the tenant's budget), then sent to.
   */
  readonly people?: Iterable<PersonRecipient> | AsyncIterable<PersonRecipient>;
}

/** Someone to reach in a personal chat that may not exist yet: a roster member, a person found through Graph. */
export interface PersonRecipient {
  readonly tenantId: string;
  readonly serviceUrl: string;
  /** `msteams`. */
  readonly channelId: string;
  /** The `29:` id from a roster, or the Entra object id. */
  readonly memberId: string;
  /** The key the person is known by: the ledger's and the opt-outs'. */
  readonly aadObjectId: string;
}

/** Why someone was not reached though nothing failed on our side. */
export type UnreachableReason = 'blocked' | 'notInstalled' | 'notFound';

export type PersonalConversationOutcome =
  | {
      readonly ok: true;
      readonly conversation: StoredConversation;
      /** True when a request to the connector opened it (false: a stored one was reused). */
      readonly opened: boolean;
    }
  | { readonly ok: false; readonly reason: UnreachableReason; readonly status?: number; readonly code: string; readonly message: string };

/**
 * Finds or opens a person's personal chat with the bot: the engine's hook, so that a stored chat
 * can be reused and people without the app installed for, around the connector's create.
 */
export interface PersonalConversations {
  /**
   * One attempt. A request to the Bot Connector must go through `options.beforeWire`: that is how
   * it is counted in the tenant's budget with the sends. What is worth retrying (throttling, a
   * server error) is thrown, as a send throws it; a refusal comes back as its reason.
   */
  findOrCreate(person: PersonRecipient, options: SendOptions): Promise<PersonalConversationOutcome>;
}

export interface RecipientFailure {
  readonly channelId: string;
  readonly conversationId: string;
  /** HTTP status from the channel; absent for network errors and timeouts. */
  readonly status?: number;
  /** The channel's error code (e.g. `ConversationNotFound`), or our own (`Timeout`, `NetworkError`, `TokenUnavailable`, `CredentialsUnavailable`). */
  readonly code: string;
  readonly message: string;
  readonly attempts: number;
  /** True when the reference was deleted from the store because the conversation is gone for good. */
  readonly pruned: boolean;
  /** People (`BroadcastRequest.people`): whose chat could not be opened, and why. */
  readonly aadObjectId?: string;
  readonly reason?: UnreachableReason;
}

export interface BroadcastSummary {
  readonly id: string;
  /** Stored conversations that matched the filter. Always matched = sent + failed + alreadySent + notAttempted + optedOut. */
  readonly matched: number;
  readonly sent: number;
  /** Attempted and not delivered (gone, refused, out of attempts, or cut short by a stop). */
  readonly failed: number;
  /** Of `failed`: references deleted from the store because the conversation is gone for good. */
  readonly pruned: number;
  /** Extra attempts made after a retryable failure (429, 5xx, network). */
  readonly retried: number;
  /** Recipients skipped because an earlier attempt of the same id already delivered to them. */
  readonly alreadySent: number;
  /** Recipients skipped because they sent the bot "stop": their personal chats (group chats and channels are never skipped). */
  readonly optedOut: number;
  /**
   * Recipients not reached because the run stopped early or hit its deadline: never attempted, or
   * (deadline) attempted without success and their retry would have come after it. A retry of the
   * request with the same id reaches them.
   */
  readonly notAttempted: number;
  readonly durationMs: number;
  /**
   * Set when the whole run stopped early for a reason to fix: the bot's credentials were refused,
   * the ledger or the store could not be read. Not set for the deadline (then notAttempted > 0).
   */
  readonly stoppedEarly?: string;
  /** The first failures, capped; `failed` has the full count. */
  readonly failures: readonly RecipientFailure[];
  /** With `people`: of `failed`, those whose personal chat Teams would not open, by reason. */
  readonly unreachable?: Readonly<Record<UnreachableReason, number>>;
  /** With `people`: personal chats opened by a request to the connector (the rest were stored ones reused). */
  readonly chatsOpened?: number;
}

/** The delivery engine as its callers see it: one notification in, its summary out. */
export type Broadcast = (request: BroadcastRequest) => Promise<BroadcastSummary>;
