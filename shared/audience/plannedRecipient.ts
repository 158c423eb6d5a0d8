import type { StoredConversation } from '../storage/conversationStore';

/** Why someone named by the audience is not reached: counted by reason in the status, listed in the failures and the export. */
export const unreachedReasons = ['notFound', 'guest', 'notInstalled', 'blocked'] as const;
export type UnreachedReason = (typeof unreachedReasons)[number];

/** A person to reach in a personal chat, known by their Entra object id; the conversation is found or created at delivery. */
export interface PersonRecipient {
  readonly kind: 'person';
  readonly tenantId: string;
  /** The Entra object id: the key that makes each person one recipient. */
  readonly aadObjectId: string;
  /** The Teams user id (`29:...`) from a team's roster; absent for people found through Graph. */
  readonly memberId?: string;
  /** Where the person's tenant is served: the team's service URL, or one of the tenant's stored conversations. */
  readonly serviceUrl?: string;
  readonly name?: string;
}

/** Someone named by the audience whom planning already knows it cannot reach (an unknown email or group, a guest). */
export interface UnreachedRecipient {
  readonly kind: 'unreached';
  readonly tenantId: string;
  readonly reason: UnreachedReason;
  /** What the request named: the email or UPN, the group id, or the person's Entra object id. */
  readonly subject: string;
  readonly message: string;
}

/**
 * One entry of a notification's planned audience. A stored conversation has
 * no `kind` (chunks written before audiences existed hold only those).
 */
export type PlannedRecipient = StoredConversation | PersonRecipient | UnreachedRecipient;

export function isPerson(recipient: PlannedRecipient): recipient is PersonRecipient {
  return 'kind' in recipient && recipient.kind === 'person';
}

export function isUnreached(recipient: PlannedRecipient): recipient is UnreachedRecipient {
  return 'kind' in recipient && recipient.kind === 'unreached';
}

export function isConversation(recipient: PlannedRecipient): recipient is StoredConversation {
  return !('kind' in recipient);
}

/**
 * The key that makes a recipient one: a person by their Entra object id,
 * whether named by a roster, a group, an email or their stored personal chat;
 * any other conversation by its ids; an unreached entry by what was named
 * (an email given twice is listed once).
 */
export function recipientKey(recipient: PlannedRecipient): string {
  if (isPerson(recipient)) return `person\n${recipient.aadObjectId.toLowerCase()}`;
  if (isUnreached(recipient)) return `unreached\n${recipient.subject.toLowerCase()}`;
  if (recipient.conversationType === 'personal' && recipient.aadObjectId !== '') return `person\n${recipient.aadObjectId.toLowerCase()}`;
  return `conversation\n${recipient.channelId}\n${recipient.conversationId}`;
}
