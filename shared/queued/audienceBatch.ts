import { isConversation, isPerson, isUnreached, unreachedReasons, type PersonRecipient as PlannedPerson, type UnreachedReason, type UnreachedRecipient } from '../audience/plannedRecipient';
import { personPlaceholder } from '../delivery/broadcast';
import type { BroadcastSummary, OptOutCheck, PersonRecipient, RecipientFailure } from '../delivery/broadcastTypes';
import type { DeliveryLedger } from '../ledgers/deliveryLedgers';
import type { ConversationKey, ConversationStore, StoredConversation } from '../storage/conversationStore';
import type { AudienceRow } from './audienceTable';
import type { NotificationRecord } from './notificationTable';
import { ledgerNameOf, type QueuedDependencies } from './workContext';
import { sentActivity } from '../notifications/sentActivity';
import { readReceiptIndexing } from './readReceiptIndexing';

/** A batch's summary with those not reached counted by reason (not part of `failed`). */
export interface AudienceBatchSummary extends BroadcastSummary {
  readonly unreached: Readonly<Record<UnreachedReason, number>>;
}

/** Teams' global service URL, for people of a tenant no stored reference gave one for. */
export const defaultTeamsServiceUrl = 'https://smba.trafficmanager.net/teams/';

/** A person's key in the delivery ledger and the failures: the engine's placeholder for them, named by their Entra id, whatever chat reached them. */
export function personKey(person: Pick<PlannedPerson, 'aadObjectId'>): ConversationKey {
  const { channelId, conversationId } = personPlaceholder(engineRecipient({ kind: 'person', tenantId: '', ...person }));
  return { channelId, conversationId };
}

/** Where a recipient planning could not reach is listed in the failures: by what the request named. */
export function unreachedKey(unreached: UnreachedRecipient): ConversationKey {
  return { channelId: 'audience', conversationId: unreached.subject };
}

/**
 * One batch of a tenant's planned audience through the engine: stored
 * conversations as they are, persons as the engine's `people` (their chat is
 * found, opened or installed for by the reach hook, in the tenant's budget,
 * and the ledger knows them by Entra id). Recipients planning could not
 * reach, and persons Teams would not open a chat with, are counted by reason
 * and listed in the failures, not counted as failed; so is a send to a person
 * refused because they blocked the bot (403 MessageWritesBlocked).
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
  const people = recipients.filter(isPerson).map(engineRecipient);
  const unreached = recipients.filter(isUnreached);
  const summary =
    conversations.length > 0 || people.length > 0
      ? await sendBatch(deps, notification, tenantId, conversations, { ...options, ...(people.length > 0 ? { people } : {}) })
      : emptySummary(notification.id);

  const counts = Object.fromEntries(unreachedReasons.map((reason) => [reason, 0])) as Record<UnreachedReason, number>;
  for (const recipient of unreached) counts[recipient.reason] += 1;
  const failures: RecipientFailure[] = unreached.map((recipient) => ({ ...unreachedKey(recipient), code: recipient.reason, message: recipient.message, attempts: 0, pruned: false }));
  let unreachedOnSend = 0;
  for (const failure of summary.failures) {
    // A person who blocked the bot is `blocked` whether Teams said so on opening the chat or on the send; a stored
    // conversation's refusal stays a failure as before audiences (its export and failures keep their code).
    const blockedOnSend = failure.aadObjectId !== undefined && failure.status === 403 && /MessageWritesBlocked/i.test(failure.code);
    const reason = failure.reason ?? (blockedOnSend ? 'blocked' : undefined);
    if (reason !== undefined) {
      counts[reason] += 1;
      unreachedOnSend += 1;
    }
    const person = failure.aadObjectId === undefined ? {} : personKey({ aadObjectId: failure.aadObjectId });
    failures.push({ ...failure, ...person, ...(reason === undefined ? {} : { code: reason, message: `${failure.code}: ${failure.message}` }) });
  }
  return { ...summary, matched: summary.matched + unreached.length, failed: summary.failed - unreachedOnSend, failures, unreached: counts };
}

export interface BatchOptions {
  readonly redo: boolean;
  readonly signal: AbortSignal;
  readonly optOuts: OptOutCheck | undefined;
}

function engineRecipient(person: PlannedPerson): PersonRecipient {
  return {
    tenantId: person.tenantId,
    serviceUrl: person.serviceUrl ?? defaultTeamsServiceUrl,
    channelId: 'msteams',
    memberId: person.memberId ?? person.aadObjectId,
    aadObjectId: person.aadObjectId,
  };
}

function emptySummary(id: string): BroadcastSummary {
  return { id, matched: 0, sent: 0, failed: 0, pruned: 0, retried: 0, alreadySent: 0, optedOut: 0, notAttempted: 0, durationMs: 0, failures: [] };
}

/** The batch through the engine: the batch is the engine's whole store listing (and its people); pruning goes to the real store. */
async function sendBatch(
  deps: QueuedDependencies,
  notification: NotificationRecord,
  tenantId: string,
  conversations: readonly StoredConversation[],
  { redo, signal, optOuts, people }: BatchOptions & { readonly people?: readonly PersonRecipient[] },
): Promise<BroadcastSummary> {
  const ledger = deps.ledgers.open(ledgerNameOf(notification.id, tenantId), { groupWindowMs: deps.tuning.ledgerGroupMs, revision: notification.revision });
  const readReceipts = readReceiptIndexing(deps.readReceipts, notification.id, tenantId, conversations, deps.logger);
  // A fresh batch was sent by nobody yet: no read per recipient. Every delivery is recorded either way.
  const batchLedger: DeliveryLedger = {
    wasDelivered: redo ? (key) => ledger.wasDelivered(key) : async () => false,
    recordDelivered: async (key, activityId, chat) => {
      await ledger.recordDelivered(key, activityId, chat);
      readReceipts.delivered(key, activityId, chat);
    },
  };
  const broadcast = deps.engineFor(batchStore(conversations, deps.store));
  const summary = await broadcast({
    id: notification.id,
    activity: sentActivity(notification.request, notification.id),
    ledger: batchLedger,
    // A safety net only: a batch normally takes batchSize / 50 s; past this it is redone by the queue's retry.
    // A person may cost two requests (opening the chat, then the send) and a chunk of people holds more
    // recipients than a chunk of references: 0.2 s more per person, so a slow channel still finishes a batch.
    deadlineSeconds: Math.max(60, deps.tuning.sliceMs / 1_000 + 60) + Math.ceil((people?.length ?? 0) / 5),
    signal,
    ...(optOuts === undefined ? {} : { optOuts }),
    ...(people === undefined ? {} : { people }),
  });
  // Once the batch is sent, before it is counted: a send's time is not lengthened, and a finished batch has its deliveries indexed.
  await readReceipts.index();
  return summary;
}

/** A store whose listing is one batch; deletes (pruning) and lookups go to the real store. */
export function batchStore(conversations: readonly StoredConversation[], store: ConversationStore): ConversationStore {
  return {
    list: async () => ({ items: conversations }),
    delete: (key, condition) => store.delete(key, condition),
    get: (key) => store.get(key),
    upsert: (conversation) => store.upsert(conversation),
    insert: (conversation) => store.insert(conversation),
    listTeams: (tenantId) => store.listTeams(tenantId),
  };
}
