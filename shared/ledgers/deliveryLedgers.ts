// ledgers/: who already got a notification, and which ids a run has claimed (memory and Table).
// May import storage/ and the root utilities.
import type { ConversationKey } from '../storage/conversationStore';
import { toKey } from '../storage/conversationKeys';

/**
 * The ledgers of client-chosen notification ids. A run first claims its id:
 * the claim is what keeps two requests with the same id (on this instance or
 * another) from sending at the same time, and it lapses after `leaseMs` so a
 * crashed run does not block its id for good. The first claim of an id also
 * records the request's fingerprint (what is sent, to whom): the id stays
 * bound to it, so a reused id with another message is refused, not skipped.
 */
/** Remembers who already got a notification, so a retried request never sends twice. */
export interface DeliveryLedger {
  wasDelivered(key: ConversationKey): Promise<boolean>;
  /**
   * Records the delivery, with the id the channel gave the activity when it gave one (what an edit or a
   * recall needs to reach the message later), in the same write.
   */
  recordDelivered(key: ConversationKey, activityId?: string, chat?: DeliveredChat): Promise<void>;
}

/**
 * The chat a delivery went to when the ledger knows it under another key: a person reached through an
 * audience source is recorded under their Entra id, and their personal chat (found or opened at delivery)
 * is what a later pass (edit, recall, remind) and read receipts address. The tenant is the ledger's.
 */
export interface DeliveredChat {
  readonly conversationId: string;
  readonly serviceUrl: string;
}

/**
 * One conversation's entry in a ledger, as read back: the delivery, and what was done to its message since.
 * Rows written before activity ids were kept read with `activityId` undefined and `revision` 1.
 */
export interface LedgerEntry {
  /** The id the channel gave the delivered activity; undefined when none was recorded. */
  readonly activityId: string | undefined;
  /** The revision of the notification the chat shows: the one delivered, or the latest one a pass put there. */
  readonly revision: number;
  /** Passes done on this chat (see `LedgerMark`), by name. */
  readonly marks: ReadonlySet<string>;
  /** The chat it went to, for a delivery recorded under a person's key; undefined for a conversation's own row (and rows written before chats were kept). */
  readonly chat: DeliveredChat | undefined;
  /** Ids of the messages passes sent into the chat since (reminders), which a recall deletes too; empty when none. */
  readonly laterActivityIds: readonly string[];
}

/** The revision of a delivery recorded without one: the notification as first sent. */
export const firstRevision = 1;

/**
 * What a pass over a ledger records for a chat once its action succeeded (shared/queued/ledgerPass.ts):
 * a name (`revision`, `recalled`, a follow-up's name), and for an edit the revision the chat now shows.
 */
export interface LedgerMark {
  readonly name: string;
  readonly revision?: number;
}

/** Records the marks of one pass, grouped like deliveries; each `record` resolves once its row is stored. */
export interface LedgerMarkWriter {
  /** `activityId`: the id of a message the pass sent into the chat (a reminder), kept with the mark. */
  record(key: ConversationKey, activityId?: string): Promise<void>;
}

export interface DeliveryLedgers {
  /** Claims the id and reads what is already recorded for it; throws when the storage is unreachable. */
  claim(notificationId: string, leaseMs: number, fingerprint: string): Promise<LedgerClaim>;
}

/**
 * A ledger opened without a claim, for callers that keep one writer per
 * ledger themselves (queued notifications: one lease holder per tenant).
 */
export interface DeliveryLedgerAccess {
  open(ledgerName: string, options?: LedgerOpenOptions): DeliveryLedger;
  /** A writer of one pass's marks into the ledger (one writer per ledger, like `open`). */
  openMarks(ledgerName: string, mark: LedgerMark, options?: LedgerOpenOptions): LedgerMarkWriter;
}

/** Reading a ledger back whole (the per-recipient export of a queued notification). */
export interface DeliveryLedgerReading {
  /** The delivery keys (`deliveryRowKey`) recorded in the ledger; empty when it has none. */
  deliveredKeys(ledgerName: string): Promise<ReadonlySet<string>>;
  /** Every delivery of the ledger by delivery key (`deliveryRowKey`), with its activity id, revision and marks. */
  entries(ledgerName: string): Promise<ReadonlyMap<string, LedgerEntry>>;
}

/** Deleting ledgers whose time is over (retention of queued notifications). */
export interface DeliveryLedgerRemoval {
  /**
   * Deletes up to `budget` rows of the ledgers whose names start with `prefix` (and of `names`, for a
   * name too long to be found by its prefix); returns how many, fewer than `budget` when none is left.
   */
  removeLedgers(prefix: string, names: readonly string[], budget: number): Promise<number>;
}

export interface LedgerOpenOptions {
  /**
   * How long a delivery may wait to be written together with the ones after it (default
   * `defaultGroupWindowMs`); 0 writes each as soon as it comes. Until it is written, a crash leaves it
   * unrecorded and it is sent again.
   */
  readonly groupWindowMs?: number;
  /** The revision of the notification the deliveries recorded through this ledger carry (default `firstRevision`). */
  readonly revision?: number;
}

export const defaultGroupWindowMs = 20;

export type LedgerClaim =
  | { readonly claimed: true; readonly ledger: DeliveryLedger; release(): Promise<void> }
  /** `running`: another run holds the id and its lease has not lapsed. `reused`: the id was first claimed with another fingerprint. */
  | { readonly claimed: false; readonly reason: 'running' | 'reused' };

/**
 * Key of a conversation in a notification's ledger: channel and conversation
 * id escaped together (the newline between them is escaped too, so no two
 * keys collide), hashed when too long, like the store's keys.
 */
export function deliveryRowKey({ channelId, conversationId }: ConversationKey): string {
  return toKey(`${channelId}\n${conversationId}`);
}

/** Folds a ledger's rows, read in any order (deliveries and marks), into its entries. */
export class LedgerEntryFold {
  private readonly deliveries = new Map<string, { readonly activityId: string | undefined; readonly revision: number; readonly chat: DeliveredChat | undefined }>();
  private readonly marks = new Map<string, Array<{ readonly mark: LedgerMark; readonly activityId: string | undefined }>>();

  delivery(key: string, activityId: string | undefined, revision: number = firstRevision, chat?: DeliveredChat): void {
    const known = this.deliveries.get(key);
    // Recorded twice (a redo that sent again): the later revision is what the chat shows.
    if (known === undefined || revision >= known.revision) {
      // The id and the chat of one delivery go together: a later record without an id keeps the earlier pair.
      const keepsKnown = activityId === undefined && known !== undefined;
      this.deliveries.set(key, { activityId: keepsKnown ? known.activityId : activityId, revision, chat: keepsKnown ? (chat ?? known.chat) : chat });
    }
  }

  mark(key: string, mark: LedgerMark, activityId?: string): void {
    const list = this.marks.get(key);
    if (list === undefined) this.marks.set(key, [{ mark, activityId }]);
    else list.push({ mark, activityId });
  }

  entries(): Map<string, LedgerEntry> {
    const entries = new Map<string, LedgerEntry>();
    for (const [key, delivery] of this.deliveries) {
      const marks = this.marks.get(key) ?? [];
      const revision = Math.max(delivery.revision, ...marks.map(({ mark }) => mark.revision ?? firstRevision));
      const laterActivityIds = [...new Set(marks.flatMap(({ activityId }) => (activityId === undefined ? [] : [activityId])))];
      entries.set(key, { activityId: delivery.activityId, revision, marks: new Set(marks.map(({ mark }) => mark.name)), chat: delivery.chat, laterActivityIds });
    }
    return entries;
  }
}
