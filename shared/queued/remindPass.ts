import { deliveryRowKey, type LedgerEntry } from '../ledgers/deliveryLedgers';
import { isPersonalConversation, personKey } from '../engagement/optOutStore';
import type { AcknowledgementRecord } from '../engagement/acknowledgementStore';
import type { StoredConversation } from '../storage/conversationStore';
import { sentActivity } from '../notifications/sentActivity';
import type { PassAction, PassPlan } from './ledgerPass';
import type { NotificationRecord } from './notificationTable';
import type { QueuedDependencies } from './workContext';

export { remindPass, reminderOfPass } from './passNames';

/**
 * A reminder: a pass over the delivered chats (ledgerPass.ts) that sends the notification's message
 * again, as it reads now (the latest revision, with its acknowledge button), to every chat whose
 * person has not acknowledged it. Each reminder has an id and its own pass (`remind-<id>`) and mark,
 * so it reaches a chat at most once however often its work is redone, and a second reminder is a
 * new pass. A recalled notification's chats are never reminded.
 */

/** The plan of a reminder's slice, with the acknowledgements as they are now (read once per slice). */
export async function remindPlan(deps: QueuedDependencies, notification: NotificationRecord, pass: string): Promise<PassPlan> {
  if (notification.state === 'recalled') return { kind: 'end', state: 'cancelled', reason: 'the notification was recalled' };
  const acknowledged = acknowledgedBy(await (deps.acknowledgements?.list(notification.id) ?? Promise.resolve([])));
  return { kind: 'act', action: remindAction(deps, notification, pass, acknowledged) };
}

function remindAction(deps: QueuedDependencies, notification: NotificationRecord, pass: string, acknowledged: Acknowledged): PassAction {
  const activity = sentActivity(notification.request, notification.id);
  return {
    mark: { name: pass },
    needs: (entry: LedgerEntry, conversation: StoredConversation) => !entry.marks.has('recalled') && !entry.marks.has(pass) && !acknowledged.has(conversation),
    // A new message in the chat: the delivered one's id is not needed (deliveries recorded before ids were kept are reminded too).
    requiresActivityId: false,
    // A reminder done twice is two messages in the chat: each is marked as soon as it is sent.
    repeatable: false,
    // The reminder's id is kept with its mark: a recall deletes it with the notification's message.
    act: (conversation, _entry, options) => deps.activities.send(conversation, activity, options),
    continuesIn: (state) => state !== 'recalled',
  };
}

interface Acknowledged {
  has(conversation: StoredConversation): boolean;
}

/** A chat counts as acknowledged when someone pressed the button in it, or (a personal chat) when its person pressed it anywhere. */
function acknowledgedBy(records: readonly AcknowledgementRecord[]): Acknowledged {
  const chats = new Set(records.map((record) => deliveryRowKey(record.conversation)));
  const people = new Set(records.map((record) => record.personKey));
  return {
    has: (conversation) => chats.has(deliveryRowKey(conversation)) || (isPersonalConversation(conversation) && people.has(personKey(conversation))),
  };
}
