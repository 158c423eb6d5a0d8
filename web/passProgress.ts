import { formatCount } from './elementById';
import type { NotificationStatus, PassProgress } from './notificationApi';

/**
 * How far the edits, reminders and the recall of a notification got, one
 * sentence each for the status view: replacing, repeating or deleting the
 * message in the chats it reached runs on the queues after the send, with
 * counts of its own.
 */

const passStates: Readonly<Record<PassProgress['state'], string>> = {
  running: 'going on',
  done: 'done',
  superseded: 'overtaken by a later edit',
  stopped: 'stopped by the recall',
  failed: 'gave up',
};

export function passSummaries(status: NotificationStatus): string[] {
  const lines = (status.revisions ?? []).map(
    (revision) => `Edit ${revision.revision - 1} (revision ${revision.revision}): ${passStates[revision.state]}, ${formatCount(revision.updated)} ${chats(revision.updated)} updated${rest(revision)}.`,
  );
  (status.reminders ?? []).forEach((reminder, index) => {
    lines.push(
      `Reminder ${index + 1}: ${passStates[reminder.state]}, sent to ${formatCount(reminder.reminded)} ${chats(reminder.reminded)}, ` +
        `${formatCount(reminder.acknowledged)} left out as acknowledged${rest(reminder)}.`,
    );
  });
  const recall = status.recall;
  if (recall !== undefined) lines.push(`Recall: ${passStates[recall.state]}, removed from ${formatCount(recall.removed)} ${chats(recall.removed)}${rest(recall)}.`);
  return lines;
}

/** True while an edit or the recall is still going through the chats. */
export function passesRunning(status: NotificationStatus): boolean {
  const passes = [...(status.revisions ?? []), ...(status.reminders ?? []), ...(status.recall === undefined ? [] : [status.recall])];
  return passes.some((pass) => pass.state === 'running');
}

function rest(pass: PassProgress): string {
  return `${pass.failed > 0 ? `, ${formatCount(pass.failed)} failed` : ''}${pass.pending > 0 ? `, ${formatCount(pass.pending)} to go` : ''}`;
}

function chats(count: number): string {
  return count === 1 ? 'chat' : 'chats';
}
