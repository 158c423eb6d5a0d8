import { isConversation, isPerson, isUnreached, unreachedReasons, type PersonRecipient, type UnreachedReason, type UnreachedRecipient } from '../audience/plannedRecipient';
import type { BroadcastSummary, OptOutCheck, RecipientFailure } from '../delivery/broadcastTypes';
import { deliveryRowKey, type DeliveryLedger } from '../ledgers/deliveryLedgers';
import type { ConversationKey, ConversationStore, StoredConversation } from '../storage/conversationStore';
import type { AudienceRow } from './audienceTable';
import type { NotificationRecord } from './notificationTable';
import { ledgerNameOf, type QueuedDependencies } from './workContext';

/** A batch's summary with those not reached counted by reason (not part of `failed`). */
export interface AudienceBatchSummary extends BroadcastSummary {
  readonly unreached: Readonly<Record<UnreachedReason, number>>;
}

/** A person's key in the delivery ledger and the failures: their Entra object id, whatever conversation reached them. */
export function personKey(aadObjectId: string): ConversationKey {
  return { channelId: 'person', conversationId: aadObjectId.toLowerCase() };
}

/** Where a recipient planning could not reach is listed in the failures: by what the request named. */
export function unreachedKey(unreached: UnreachedRecipient): ConversationKey {
  return { channelId: 'audience', conversationId: unreached.subject };
}

/** Persons resolved to a conversation, person checks against the ledger and finding conversations beyond this many at once. */
const personConcurrency = 8;

/** Persons of a batch need the reach dependencies (Teams connector, Graph); a process built without them cannot deliver to persons. */
export class ReachNotConfiguredError extends Error {
  constructor() {
    super('This notification names people (team members, emails or groups), and this process was built without the Teams and Graph clients that reach them.');
    this.name = 'ReachNotConfiguredError';
  }
}

/**
 * One batch of a tenant's planned audience: stored conversations go to the
 * engine as they are; persons are first checked against the ledger by their
 * Entra id (a redone batch), then given their personal conversation (found,
 * created, or installed for: PersonConversations), and sent with the ledger
 * keyed by the person; recipients planning could not reach, and persons
 * without a conversation, are counted by reason and listed in the failures.
 * A send refused because the person blocked the bot (403 MessageWritesBlocked)
 * is counted `blocked`, not `failed`.
 */
export async function sendAudienceBatch(
  deps: QueuedDependencies,
  notification: NotificationRecord,
  tenantId: string,
  batch: readonly AudienceRow[],
  options: BatchOptions,
): Promise<AudienceBatchSummary> {
  const recipients = batch.map((row) => row.recipient);
  const conversations = recipients.filter(isConversation);
  const unreached: { readonly recipient: UnreachedRecipient; readonly key: ConversationKey }[] = recipients.filter(isUnreached).map((recipient) => ({ recipient, key: unreachedKey(recipient) }));
  const ledger = deps.ledgers.open(ledgerNameOf(notification.id, tenantId), { groupWindowMs: deps.tuning.ledgerGroupMs });
  let persons = recipients.filter(isPerson);
  let alreadySent = 0;
  if (options.redo && persons.length > 0) {
    const delivered = await inParallel(persons, personConcurrency, (person) => ledger.wasDelivered(personKey(person.aadObjectId)));
    persons = persons.filter((_, index) => !delivered[index]);
    alreadySent = delivered.filter(Boolean).length;
  }
  const personOf = new Map<string, PersonRecipient>();
  if (persons.length > 0) {
    if (deps.reach === undefined) throw new ReachNotConfiguredError();
    for (const resolved of await deps.reach.conversations.resolveAll(persons, personConcurrency)) {
      if (resolved.outcome === 'unreached') unreached.push({ recipient: resolved.unreached, key: personKey(resolved.person.aadObjectId) });
      else {
        conversations.push(resolved.conversation);
        personOf.set(deliveryRowKey(resolved.conversation), resolved.person);
      }
    }
  }
  const ledgerKey = (key: ConversationKey): ConversationKey => {
    const person = personOf.get(deliveryRowKey(key));
    return person === undefined ? key : personKey(person.aadObjectId);
  };
  const personLedger: DeliveryLedger = {
    wasDelivered: (key) => ledger.wasDelivered(ledgerKey(key)),
    recordDelivered: (key) => ledger.recordDelivered(ledgerKey(key)),
  };
  const summary = conversations.length > 0 ? await sendBatch(deps, notification, tenantId, conversations, { ...options, ledger: personLedger }) : emptySummary(notification.id);

  const counts = Object.fromEntries(unreachedReasons.map((reason) => [reason, 0])) as Record<UnreachedReason, number>;
  for (const { recipient } of unreached) counts[recipient.reason] += 1;
  const failures: RecipientFailure[] = unreached.map(({ recipient, key }) => ({ ...key, code: recipient.reason, message: recipient.message, attempts: 0, pruned: false }));
  let blockedOnSend = 0;
  for (const failure of summary.failures) {
    const blocked = failure.status === 403 && /MessageWritesBlocked/i.test(failure.code);
    if (blocked) blockedOnSend += 1;
    const person = personOf.get(deliveryRowKey(failure));
    failures.push({ ...failure, ...(person === undefined ? {} : personKey(person.aadObjectId)), ...(blocked ? { code: 'blocked', message: `Blocked the bot: ${failure.message}` } : {}) });
  }
  counts.blocked += blockedOnSend;
  return {
    ...summary,
    matched: summary.matched + unreached.length + alreadySent,
    failed: summary.failed - blockedOnSend,
    alreadySent: summary.alreadySent + alreadySent,
    failures,
    unreached: counts,
  };
}

export interface BatchOptions {
  readonly redo: boolean;
  readonly signal: AbortSignal;
  readonly optOuts: OptOutCheck | undefined;
}

function emptySummary(id: string): BroadcastSummary {
  return { id, matched: 0, sent: 0, failed: 0, pruned: 0, retried: 0, alreadySent: 0, optedOut: 0, notAttempted: 0, durationMs: 0, failures: [] };
}

async function inParallel<T, R>(items: readonly T[], limit: number, action: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await action(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The batch through the engine: the batch is the engine's whole store listing; pruning goes to the real store. */
async function sendBatch(
  deps: QueuedDependencies,
  notification: NotificationRecord,
  tenantId: string,
  conversations: readonly StoredConversation[],
  { redo, signal, optOuts, ledger: given }: BatchOptions & { readonly ledger?: DeliveryLedger },
): Promise<BroadcastSummary> {
  const ledger = given ?? deps.ledgers.open(ledgerNameOf(notification.id, tenantId), { groupWindowMs: deps.tuning.ledgerGroupMs });
  // A fresh batch was sent by nobody yet: no read per recipient. Every delivery is recorded either way.
  const batchLedger: DeliveryLedger = redo ? ledger : { wasDelivered: async () => false, recordDelivered: (key) => ledger.recordDelivered(key) };
  const broadcast = deps.engineFor(batchStore(conversations, deps.store));
  return broadcast({
    id: notification.id,
    activity: notification.request.activity,
    ledger: batchLedger,
    // A safety net only: a batch normally takes batchSize / 50 s; past this it is redone by the queue's retry.
    deadlineSeconds: Math.max(60, deps.tuning.sliceMs / 1_000 + 60),
    signal,
    ...(optOuts === undefined ? {} : { optOuts }),
  });
}


/** A store whose listing is one batch; deletes (pruning) and lookups go to the real store. */
function batchStore(conversations: readonly StoredConversation[], store: ConversationStore): ConversationStore {
  return {
    list: async () => ({ items: conversations }),
    delete: (key, condition) => store.delete(key, condition),
    get: (key) => store.get(key),
    upsert: (conversation) => store.upsert(conversation),
    insert: (conversation) => store.insert(conversation),
    listTeams: (tenantId) => store.listTeams(tenantId),
  };
}
