import type { LedgerEntry } from '../ledgers/deliveryLedgers';
import type { StoredConversation } from '../storage/conversationStore';
import { sentActivity } from '../notifications/sentActivity';
import { readAcknowledgedChats, type AcknowledgedChats } from './acknowledgedChats';
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
  const acknowledged = await readAcknowledgedChats(deps, notification.id);
  return { kind: 'act', action: remindAction(deps, notification, pass, acknowledged) };
}

function remindAction(deps: QueuedDependencies, notification: NotificationRecord, pass: string, acknowledged: AcknowledgedChats): PassAction {
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
