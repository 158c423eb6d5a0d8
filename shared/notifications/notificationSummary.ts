import type { BroadcastSummary } from '../delivery/broadcastTypes';
import type { NotificationOutcome } from './notificationRun';

/** How a notification outcome is shown: a small HTML page for `GET /api/notify`, JSON for `POST`. */

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The JSON error body for outcomes without a summary. */
export type NotificationErrorBody =
  | { readonly error: 'NotificationInProgress'; readonly id: string; readonly message: string }
  | { readonly error: 'NotificationIdReused'; readonly id: string; readonly message: string }
  | { readonly error: 'StorageUnavailable'; readonly id: string; readonly message: string };

export function outcomeBody(outcome: NotificationOutcome): BroadcastSummary | NotificationErrorBody {
  switch (outcome.kind) {
    case 'completed':
    case 'stoppedEarly':
    case 'deadlineReached':
      return outcome.summary;
    case 'alreadyRunning':
      return {
        error: 'NotificationInProgress',
        id: outcome.id,
        message: `Notification ${outcome.id} is still being sent by an earlier request; retry once it has finished.`,
      };
    case 'idReused':
      return {
        error: 'NotificationIdReused',
        id: outcome.id,
        message:
          `Notification id ${outcome.id} was already used for a different message or target, so nothing was sent. ` +
          'Use a new id for a new notification; to retry the earlier one, repeat its request unchanged.',
      };
    case 'storageUnavailable':
      return { error: 'StorageUnavailable', id: outcome.id, message: `Storage is unavailable; retry later. ${outcome.message}` };
  }
}

export function renderNotificationPage(outcome: NotificationOutcome, messageText: string): string {
  if (outcome.kind === 'alreadyRunning' || outcome.kind === 'idReused' || outcome.kind === 'storageUnavailable') {
    const body = outcomeBody(outcome);
    const title = outcome.kind === 'alreadyRunning' ? 'Notification already in progress' : 'Notification not sent';
    return page(title, `<p>${escapeHtml('message' in body ? body.message : '')}</p>`);
  }
  const { summary } = outcome;
  const rows: [string, number | string][] = [
    ['Conversations matched', summary.matched],
    ['Sent', summary.sent],
    ['Already sent earlier', summary.alreadySent],
    ['Opted out (skipped)', summary.optedOut],
    ['Failed', summary.failed],
    ['Removed (bot no longer there)', summary.pruned],
    ['Not attempted', summary.notAttempted],
    ['Retries', summary.retried],
    ['Duration', `${(summary.durationMs / 1000).toFixed(1)} s`],
  ];
  const stopped =
    summary.stoppedEarly === undefined ? '' : `<p class="stopped"><strong>Stopped early:</strong> ${escapeHtml(summary.stoppedEarly)}</p>`;
  const failures =
    summary.failures.length === 0
      ? ''
      : `<h2>Failures${summary.failures.length < summary.failed ? ` (first ${summary.failures.length} of ${summary.failed})` : ''}</h2>
<table>
<tr><th>Conversation</th><th>Status</th><th>Code</th><th>Message</th></tr>
${summary.failures
  .map(
    (failure) =>
      `<tr><td>${escapeHtml(failure.conversationId)}</td><td>${failure.status ?? ''}</td><td>${escapeHtml(failure.code)}</td><td>${escapeHtml(failure.message)}</td></tr>`,
  )
  .join('\n')}
</table>`;
  const content = `<p>Message: <q>${escapeHtml(messageText)}</q></p>
<p>Notification id: <code>${escapeHtml(summary.id)}</code></p>
${stopped}
<table>
${rows.map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(String(value))}</td></tr>`).join('\n')}
</table>
${failures}`;
  const titles = { completed: 'Notification sent', stoppedEarly: 'Notification stopped early', deadlineReached: 'Notification cut short by the deadline' };
  return page(titles[outcome.kind], content);
}

function page(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}th{text-align:left;padding-right:1em}td,th{padding:.2em .5em}.stopped{color:#a00}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${content}
</body>
</html>
`;
}

/** One log line with the counts. */
export function summaryLine(summary: BroadcastSummary): string {
  const parts = [
    `matched ${summary.matched}`,
    `sent ${summary.sent}`,
    `alreadySent ${summary.alreadySent}`,
    `optedOut ${summary.optedOut}`,
    `failed ${summary.failed}`,
    `pruned ${summary.pruned}`,
    `notAttempted ${summary.notAttempted}`,
    `retried ${summary.retried}`,
    `in ${summary.durationMs} ms`,
  ];
  const stopped = summary.stoppedEarly === undefined ? '' : `; stopped early: ${summary.stoppedEarly}`;
  return `notification ${summary.id}: ${parts.join(', ')}${stopped}`;
}
