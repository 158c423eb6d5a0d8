import { deliveryRowKey, type DeliveryLedgerReading } from '../ledgers/deliveryLedgers';
import { isConversation, isPerson, isUnreached, unreachedReasons, type PlannedRecipient } from '../audience/plannedRecipient';
import { personKey as personLedgerKey, unreachedKey } from './audienceBatch';
import { toKey } from '../storage/conversationKeys';
import type { ConversationKey } from '../storage/conversationStore';
import type { AudienceTable } from './audienceTable';
import { terminalStates, type FailureRecord, type NotificationRecord, type NotificationTable, type WorkRecord } from './notificationTable';
import { ledgerNameOf } from './workContext';
import type { AcknowledgementStore } from '../engagement/acknowledgementStore';
import { aadKey, isPersonalConversation, personKey } from '../engagement/optOutStore';
import { chatKey, type ReadReceiptStore } from '../engagement/readReceiptStore';

/**
 * The per-recipient export of a queued notification (`GET /api/notifications/{id}/recipients`):
 * one row per recipient of its audience snapshot, with what happened to them.
 *
 * Where each outcome comes from:
 * - `delivered`: the tenant's delivery ledger holds the conversation (whichever run delivered it);
 * - `failed` / `pruned`: a `failure~` row of the notification (`pruned`: the reference was deleted);
 * - `optedOut`: nothing records an opted-out recipient one by one (the engine only counts them), so a
 *   recipient of a batch the tenant's work has finished (its chunk is at or before the work's cursor)
 *   that was neither delivered nor failed is one: a finished batch has no recipient left unattempted;
 * - `pending`: after the cursor while the tenant's work goes on;
 * - `notAttempted`: after the cursor of work that ended without them (cancelled, poisoned, or the
 *   notification failed or was cancelled).
 * A delivery whose ledger write failed (the engine logs it) reads as `optedOut`: the one case where a
 * row and the status's counts can disagree.
 *
 * Memory: tenants are read one after the other; for the current tenant the export holds its ledger's
 * entries (key, activity id, revision) and its failure rows, and of its audience one page of chunks
 * (50 rows of about 60-100 recipients). `activityId` is null for a delivery recorded without one.
 * `acknowledgedAt`: when someone pressed the notification's button in that chat (or, for a personal
 * chat, when its person pressed it anywhere); `readAt`: when a read receipt covered the delivery
 * (personal chats only). Both are read once per export, one row per person or chat that
 * acknowledged or read.
 */

export const recipientOutcomes = ['delivered', 'failed', 'pruned', 'optedOut', 'pending', 'notAttempted', ...unreachedReasons] as const;
export type RecipientOutcome = (typeof recipientOutcomes)[number];

export interface RecipientRow {
  readonly conversationId: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly outcome: RecipientOutcome;
  /** Why a failed or pruned recipient was not reached (`<code>: <message>`, with the channel's HTTP status when it answered). */
  readonly error: string | null;
  readonly activityId: string | null;
  readonly acknowledgedAt: string | null;
  readonly readAt: string | null;
}

export interface RecipientFilter {
  readonly outcome?: RecipientOutcome;
  /** false: those who have not acknowledged; true: those who have. */
  readonly acknowledged?: boolean;
}

export interface RecipientPage {
  readonly recipients: readonly RecipientRow[];
  /** The `after` of the next page; absent on the last. */
  readonly nextAfter?: string;
}

/** An `after` that no page of this export gave out. */
export class RecipientCursorError extends Error {
  constructor() {
    super('"after" is not a continuation token this endpoint gave out; start again without it.');
    this.name = 'RecipientCursorError';
  }
}

export interface RecipientExportSources {
  readonly notifications: NotificationTable;
  readonly audience: AudienceTable;
  readonly ledgers: DeliveryLedgerReading;
  readonly acknowledgements?: Pick<AcknowledgementStore, 'list'>;
  readonly readReceipts?: Pick<ReadReceiptStore, 'list'>;
}

/** Where a page stopped: the tenant, the chunk, and how many of that chunk's recipients were already passed. */
interface Position {
  readonly tenantId: string;
  readonly rowKey: string;
  readonly index: number;
}

/** Recipients a JSON page looks at, at most: a filter that matches few ends a page early (with `nextAfter`) rather than scan everybody in one request. */
export const maxScannedPerPage = 5_000;

export class RecipientExport {
  constructor(private readonly sources: RecipientExportSources) {}

  /** The notification, or undefined when the id is unknown. */
  notification(id: string): Promise<NotificationRecord | undefined> {
    return this.sources.notifications.get(id);
  }

  /** One page of up to `limit` matching recipients after `after` (the `nextAfter` of the previous page). */
  async page(notification: NotificationRecord, filter: RecipientFilter, limit: number, after?: string): Promise<RecipientPage> {
    const from = after === undefined ? undefined : decodePosition(after);
    const recipients: RecipientRow[] = [];
    let scanned = 0;
    for await (const { row, next } of this.walk(notification, from)) {
      if (matches(row, filter)) recipients.push(row);
      scanned += 1;
      if (recipients.length === limit || scanned === maxScannedPerPage) return { recipients, nextAfter: encodePosition(next) };
    }
    return { recipients };
  }

  /** Every matching recipient, in the order of the pages, read as it is consumed (the CSV). */
  async *rows(notification: NotificationRecord, filter: RecipientFilter): AsyncGenerator<RecipientRow> {
    for await (const { row } of this.walk(notification, undefined)) if (matches(row, filter)) yield row;
  }

  /** Every recipient from a position on, with the position after it. */
  private async *walk(notification: NotificationRecord, from: Position | undefined): AsyncGenerator<{ readonly row: RecipientRow; readonly next: Position }> {
    const ended = terminalStates.includes(notification.state);
    const [work, engagement] = await Promise.all([this.sources.notifications.listWork(notification.id), this.engagement(notification.id)]);
    const fromKey = from === undefined ? undefined : toKey(from.tenantId);
    for (const tenant of work) {
      const tenantKey = toKey(tenant.tenantId);
      if (fromKey !== undefined && tenantKey < fromKey) continue;
      const resume = from !== undefined && tenantKey === fromKey ? from : undefined;
      const outcomes = await this.tenantOutcomes(notification.id, tenant, ended, engagement);
      for await (const chunk of this.sources.audience.chunks(notification.id, tenant.tenantId, resume?.rowKey ?? '')) {
        const skip = resume !== undefined && chunk.rowKey === resume.rowKey ? resume.index : 0;
        for (let index = skip; index < chunk.recipients.length; index++) {
          const recipient = chunk.recipients[index] as PlannedRecipient;
          yield { row: outcomes(recipient, chunk.rowKey), next: { tenantId: tenant.tenantId, rowKey: chunk.rowKey, index: index + 1 } };
        }
      }
    }
  }

  /** Who acknowledged (by chat and by person) and which chats read it. */
  private async engagement(id: string): Promise<Engagement> {
    const [acknowledgements, reads] = await Promise.all([this.sources.acknowledgements?.list(id) ?? [], this.sources.readReceipts?.list(id) ?? []]);
    const byChat = new Map<string, string>();
    const byPerson = new Map<string, string>();
    for (const record of acknowledgements) {
      const at = record.acknowledgedAt.toISOString();
      const chat = chatKey(record.conversation);
      const earlier = byChat.get(chat);
      if (earlier === undefined || at < earlier) byChat.set(chat, at);
      byPerson.set(record.personKey, at);
    }
    return {
      acknowledgedAt: (recipient) => {
        if (isPerson(recipient)) return byPerson.get(aadKey(recipient.aadObjectId)) ?? null;
        if (!isConversation(recipient)) return null;
        return byChat.get(chatKey(recipient)) ?? (isPersonalConversation(recipient) ? (byPerson.get(personKey(recipient)) ?? null) : null);
      },
      readAt: new Map(reads.map((mark) => [chatKey(mark.conversation), mark.readAt.toISOString()])),
    };
  }

  /** What decides a tenant's recipients' outcomes: its ledger, its failures, its work's cursor and state. */
  private async tenantOutcomes(id: string, work: WorkRecord, ended: boolean, engagement: Engagement): Promise<(recipient: PlannedRecipient, rowKey: string) => RecipientRow> {
    const [delivered, failures] = await Promise.all([
      this.sources.ledgers.entries(ledgerNameOf(id, work.tenantId)),
      this.sources.notifications.tenantFailures(id, work.tenantId),
    ]);
    const failed = new Map(failures.map((failure) => [deliveryRowKey(failure), failure]));
    const goesOn = work.state === 'active' && !ended;
    return (recipient, rowKey) => {
      const { key, userId, ...identity } = exportIdentity(recipient);
      const entry = delivered.get(key);
      // A person's chat is known once delivered: the ledger recorded it with the delivery.
      const chat = identity.chat ?? (entry?.chat === undefined ? undefined : { channelId: 'msteams', conversationId: entry.chat.conversationId });
      const failure = delivered.has(key) ? undefined : failed.get(key);
      const outcome: RecipientOutcome = delivered.has(key)
        ? 'delivered'
        : failure !== undefined
          ? failureOutcome(failure)
          : rowKey <= work.cursor
            ? 'optedOut'
            : goesOn ? 'pending' : 'notAttempted';
      return {
        conversationId: chat?.conversationId ?? '',
        userId,
        tenantId: recipient.tenantId,
        outcome,
        error: failure === undefined ? null : describeFailure(failure),
        activityId: delivered.get(key)?.activityId ?? null,
        acknowledgedAt: engagement.acknowledgedAt(recipient),
        readAt: chat === undefined ? null : (engagement.readAt.get(chatKey(chat)) ?? null),
      };
    };
  }
}

/**
 * A recipient's ledger and failure key and the ids its row shows: a conversation by its ids; a person
 * by their Entra id (in `userId`; the conversation is found or made at delivery, and shown once the ledger
 * recorded it with the delivery); someone planning could
 * not reach by what the request named (an email, a group id) in `userId`.
 */
function exportIdentity(recipient: PlannedRecipient): { readonly key: string; readonly chat?: ConversationKey; readonly userId: string } {
  if (isPerson(recipient)) return { key: deliveryRowKey(personLedgerKey(recipient)), userId: recipient.aadObjectId };
  if (isUnreached(recipient)) return { key: deliveryRowKey(unreachedKey(recipient)), userId: recipient.subject };
  return { key: deliveryRowKey(recipient), chat: recipient, userId: recipient.userId };
}

/** A failure row's outcome: pruned, one of the reasons of those not reached, or failed. */
function failureOutcome(failure: FailureRecord): RecipientOutcome {
  if (failure.pruned) return 'pruned';
  return (unreachedReasons as readonly string[]).includes(failure.code) ? (failure.code as RecipientOutcome) : 'failed';
}

interface Engagement {
  acknowledgedAt(recipient: PlannedRecipient): string | null;
  readonly readAt: ReadonlyMap<string, string>;
}

function matches(row: RecipientRow, filter: RecipientFilter): boolean {
  if (filter.outcome !== undefined && row.outcome !== filter.outcome) return false;
  if (filter.acknowledged !== undefined && (row.acknowledgedAt !== null) !== filter.acknowledged) return false;
  return true;
}

function describeFailure(failure: FailureRecord): string {
  return `${failure.status === undefined ? '' : `${failure.status} `}${failure.code}: ${failure.message}`;
}

function encodePosition(position: Position): string {
  return Buffer.from(JSON.stringify([position.tenantId, position.rowKey, position.index]), 'utf8').toString('base64url');
}

function decodePosition(token: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new RecipientCursorError();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new RecipientCursorError();
  const [tenantId, rowKey, index] = parsed as unknown[];
  if (typeof tenantId !== 'string' || typeof rowKey !== 'string' || !Number.isInteger(index) || (index as number) < 0) throw new RecipientCursorError();
  return { tenantId, rowKey, index: index as number };
}
