import type { Activity } from 'botbuilder';
import { classifyDeliveryError } from '../delivery/deliveryError';
import { acknowledgedText, withAcknowledgedCard } from '../engagement/acknowledgementCard';
import { deliveryRowKey, type LedgerEntry } from '../ledgers/deliveryLedgers';
import type { StoredConversation } from '../storage/conversationStore';
import { readAcknowledgedChats, type AcknowledgedChats } from './acknowledgedChats';
import type { PassAction, PassPlan } from './ledgerPass';
import type { NotificationRecord } from './notificationTable';
import type { QueuedDependencies } from './workContext';
import { sentActivity } from '../notifications/sentActivity';
import { recallPass, revisionOfPass, revisionPass } from './passNames';

export { recallPass, revisionPass, revisionOfPass } from './passNames';

/**
 * The passes over a notification's delivered chats, by name:
 * - `revision-<n>`: an edit; brings every chat showing an older revision to the notification's
 *   current message (PUT), the reminders sent there too, marks `revision-<n>` with the revision it put there;
 * - `recall`: deletes the message in every chat (DELETE), and the reminders sent there since, marks `recalled`.
 * A new kind of pass adds its name and plan here.
 */

export async function passPlanFor(deps: QueuedDependencies, notification: NotificationRecord, pass: string): Promise<PassPlan> {
  if (pass === recallPass) return { kind: 'act', action: recallAction(deps) };
  const revision = revisionOfPass(pass);
  if (revision === undefined) return { kind: 'end', state: 'cancelled', reason: `no pass is named "${pass}"` };
  if (notification.state === 'recalled') return { kind: 'end', state: 'cancelled', reason: 'the notification was recalled' };
  // A later edit's pass brings every chat to the newest message: this one has nothing left to do.
  if (notification.revision > revision) return { kind: 'end', state: 'superseded', reason: `revision ${notification.revision} replaced it` };
  // The acknowledgements as they are now, read once per slice (as a reminder reads them).
  const acknowledged = notification.request.acknowledge === undefined ? undefined : await readAcknowledgedChats(deps, notification.id);
  return { kind: 'act', action: revisionAction(deps, notification, acknowledged) };
}

/**
 * PUTs the notification's current message where a chat shows an older one: the delivered message and
 * the reminders sent there since (`laterActivityIds`), one request each, every one through the rate
 * limiter's gate. The chat's mark is written once all of them are replaced, so `updated` counts chats.
 * An engine retry of a chat skips the messages this slice already replaced; a redo after a crash
 * skips the chats marked, and repeats (the same PUTs, harmless: `repeatable`) only the chats that were
 * in flight or whose mark was still waiting to be written with others.
 */
function revisionAction(deps: QueuedDependencies, notification: NotificationRecord, acknowledged: AcknowledgedChats | undefined): PassAction {
  const { revision } = notification;
  const shownIn = messageShownIn(notification, acknowledged);
  const replacedBySlice = new Map<string, Set<string>>();
  return {
    mark: { name: revisionPass(revision), revision },
    needs: (entry) => entry.revision < revision && !entry.marks.has('recalled'),
    requiresActivityId: true,
    repeatable: true,
    act: async (conversation, entry, options) => {
      const activity = shownIn(conversation);
      const chatKey = deliveryRowKey(conversation);
      const replaced = replacedBySlice.get(chatKey) ?? new Set<string>();
      replacedBySlice.set(chatKey, replaced);
      const delivered = activityIdOf(entry);
      for (const activityId of [delivered, ...entry.laterActivityIds]) {
        if (replaced.has(activityId)) continue;
        try {
          await deps.activities.update(conversation, activityId, activity, options);
        } catch (error) {
          // A reminder the chat no longer holds (deleted in Teams) shows no old text: nothing to replace.
          if (activityId === delivered || !isUnknownActivity(error)) throw error;
        }
        replaced.add(activityId);
      }
      replacedBySlice.delete(chatKey);
    },
    continuesIn: (state) => state !== 'recalled',
  };
}

/**
 * The message a chat is given by an edit: as sent (with the acknowledge button when it asks for
 * acknowledgements), except in the personal chat of someone who acknowledged: the acknowledged card,
 * as their press was answered ("Acknowledged at 09:14", in their offset, else in UTC and saying so).
 * Group chats and channels keep the button: many people share the message there.
 */
function messageShownIn(notification: NotificationRecord, acknowledged: AcknowledgedChats | undefined): (conversation: StoredConversation) => Partial<Activity> {
  const activity = sentActivity(notification.request, notification.id);
  return (conversation) => {
    const record = acknowledged?.ofPerson(conversation);
    if (record === undefined) return activity;
    return withAcknowledgedCard(notification.request.activity, acknowledgedText(record.acknowledgedAt, record.offsetMinutes));
  };
}

/**
 * DELETEs the message in every chat it was delivered to, and the reminders sent there: one request
 * each, every one through the rate limiter's gate. A retry deletes them all again; those already
 * gone answer 404 and count as removed.
 */
function recallAction(deps: QueuedDependencies): PassAction {
  return {
    mark: { name: 'recalled' },
    needs: (entry) => !entry.marks.has('recalled'),
    requiresActivityId: true,
    repeatable: true,
    act: async (conversation, entry, options) => {
      for (const activityId of [activityIdOf(entry), ...entry.laterActivityIds]) {
        try {
          await deps.activities.remove(conversation, activityId, options);
        } catch (error) {
          // The chat no longer holds that message (a delete whose mark a crash lost, or one removed in Teams): it is gone, as asked.
          if (!isUnknownActivity(error)) throw error;
        }
      }
    },
    continuesIn: () => true,
  };
}

/** The chats of an action that requires an id all have one (ledgerPass.ts leaves the others out). */
function activityIdOf(entry: LedgerEntry): string {
  if (entry.activityId === undefined) throw new Error('a chat without an activity id reached an action that needs one');
  return entry.activityId;
}

/** A 404 that is not the conversation's: the activity id is unknown to the channel. */
function isUnknownActivity(error: unknown): boolean {
  const failure = classifyDeliveryError(error);
  return failure.status === 404 && failure.kind !== 'gone';
}
