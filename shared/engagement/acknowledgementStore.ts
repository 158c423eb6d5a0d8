import type { ConversationKey } from '../storage/conversationStore';
import { personKey, type Person } from './optOutStore';

/**
 * Who pressed a notification's acknowledge button. One record per notification and person (keyed
 * like an opt-out: the AAD object id, else the channel's user id), whichever chat they pressed it
 * in and however often: the first press is the one kept.
 */
export interface Acknowledgement {
  readonly notificationId: string;
  readonly person: Person;
  /** The chat the button was pressed in. */
  readonly conversation: ConversationKey;
  readonly at: Date;
  /** The person's clock's offset from UTC in minutes when they pressed (the time shown to them is in it); undefined: unknown, shown in UTC. */
  readonly offsetMinutes: number | undefined;
}

/** A stored acknowledgement, as read back. */
export interface AcknowledgementRecord {
  readonly personKey: string;
  readonly conversation: ConversationKey;
  readonly acknowledgedAt: Date;
  readonly offsetMinutes: number | undefined;
}

export interface AcknowledgeResult {
  /** False when the person had acknowledged before: the record is the first press, unchanged. */
  readonly first: boolean;
  readonly record: AcknowledgementRecord;
}

/** A Table implementation and an in-memory one that behaves the same (tests), like the opt-out store. */
export interface AcknowledgementStore {
  /** Records the press once; a later press changes nothing and returns the first. */
  acknowledge(acknowledgement: Acknowledgement): Promise<AcknowledgeResult>;
  /** How many people acknowledged the notification: a read of a few counter rows, whatever the number. */
  count(notificationId: string): Promise<number>;
  /** Every acknowledgement of the notification (the export, remind): a query per 1,000. */
  list(notificationId: string): Promise<AcknowledgementRecord[]>;
  /** Deletes up to `budget` rows of the notification's acknowledgements; fewer than `budget` when none is left. */
  remove(notificationId: string, budget: number): Promise<number>;
}

export function recordOf(acknowledgement: Acknowledgement): AcknowledgementRecord {
  return {
    personKey: personKey(acknowledgement.person),
    conversation: { channelId: acknowledgement.conversation.channelId, conversationId: acknowledgement.conversation.conversationId },
    acknowledgedAt: acknowledgement.at,
    offsetMinutes: acknowledgement.offsetMinutes,
  };
}
