import { classifyDeliveryError } from '../delivery/deliveryError';
import type { LedgerEntry } from '../ledgers/deliveryLedgers';
import type { PassAction, PassPlan } from './ledgerPass';
import type { NotificationRecord } from './notificationTable';
import type { QueuedDependencies } from './workContext';
import { sentActivity } from '../notifications/sentActivity';
import { recallPass, revisionOfPass, revisionPass } from './passNames';

export { recallPass, revisionPass, revisionOfPass } from './passNames';

/**
 * The passes over a notification's delivered chats, by name:
 * - `revision-<n>`: an edit; brings every chat showing an older revision to the notification's
 *   current message (PUT), marks `revision-<n>` with the revision it put there;
 * - `recall`: deletes the message in every chat (DELETE), and the reminders sent there since, marks `recalled`.
 * A new kind of pass adds its name and plan here.
 */

export function passPlanFor(deps: QueuedDependencies, notification: NotificationRecord, pass: string): PassPlan {
  if (pass === recallPass) return { kind: 'act', action: recallAction(deps) };
  const revision = revisionOfPass(pass);
  if (revision === undefined) return { kind: 'end', state: 'cancelled', reason: `no pass is named "${pass}"` };
  if (notification.state === 'recalled') return { kind: 'end', state: 'cancelled', reason: 'the notification was recalled' };
  // A later edit's pass brings every chat to the newest message: this one has nothing left to do.
  if (notification.revision > revision) return { kind: 'end', state: 'superseded', reason: `revision ${notification.revision} replaced it` };
  return { kind: 'act', action: revisionAction(deps, notification) };
}

/** PUTs the notification's current message where a chat shows an older one. */
function revisionAction(deps: QueuedDependencies, notification: NotificationRecord): PassAction {
  const { revision } = notification;
  // The message as sent: with the acknowledge button when the notification asks for acknowledgements.
  const activity = sentActivity(notification.request, notification.id);
  return {
    mark: { name: revisionPass(revision), revision },
    needs: (entry) => entry.revision < revision && !entry.marks.has('recalled'),
    requiresActivityId: true,
    repeatable: true,
    act: (conversation, entry, options) => deps.activities.update(conversation, activityIdOf(entry), activity, options),
    continuesIn: (state) => state !== 'recalled',
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
