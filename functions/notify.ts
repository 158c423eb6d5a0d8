import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { readJsonBody } from '../shared/http/jsonRequestBody';
import { messageActivity, parseNotificationRequest } from '../shared/notifications/notificationRequest';
import { sendNotification, type NotificationOutcome } from '../shared/notifications/notificationRun';
import { outcomeBody, renderNotificationPage, summaryLine } from '../shared/notifications/notificationSummary';
import { getServices, notificationDeps } from '../shared/services';

/**
 * GET: sends the default message to every stored conversation and answers
 * with a page a person can read. POST: sends the JSON body's message
 * (see shared/notificationRequest.ts) and answers with the JSON summary.
 *
 * Status: 200 the run completed (the body lists failed recipients, if any);
 * 400 the body is invalid ({"errors": [...]}); 413 the body is over NOTIFY_MAX_BODY_BYTES;
 * 415 the body claims a content type other than JSON; 409 a request with the same id
 * is still running, or the id was used for another message or target; 502 the run stopped early (e.g. the channel refused the
 * bot's credentials; the summary says why); 503 storage is unreachable
 * (nothing was sent); 504 the deadline (NOTIFY_DEADLINE_SECONDS) came before
 * every recipient was tried: retry with the same id to reach the rest.
 */
export async function notify(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const deps = notificationDeps(services);

  if (request.method === 'GET') {
    const text = services.settings.defaultMessage;
    const outcome = await sendNotification(deps, { activity: messageActivity(text) });
    logOutcome(context, outcome);
    return {
      status: statusOf(outcome),
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
      body: renderNotificationPage(outcome, text),
    };
  }

  const read = await readJsonBody(request, services.settings.notifyMaxBodyBytes);
  if (!read.ok) {
    context.warn(`notify: answered ${read.refusal.status}: ${read.refusal.body.message}`);
    return { status: read.refusal.status, jsonBody: read.refusal.body };
  }
  const parsed = parseNotificationRequest(read.text, services.settings);
  if (!parsed.ok) {
    context.warn(`notify: refused an invalid request: ${parsed.errors.join(' ')}`);
    return { status: 400, jsonBody: { errors: parsed.errors } };
  }
  const outcome = await sendNotification(deps, parsed.value);
  logOutcome(context, outcome);
  return { status: statusOf(outcome), jsonBody: outcomeBody(outcome) };
}

function statusOf(outcome: NotificationOutcome): number {
  switch (outcome.kind) {
    case 'completed':
      return 200;
    case 'stoppedEarly':
      return 502;
    case 'deadlineReached':
      return 504;
    case 'alreadyRunning':
    case 'idReused':
      return 409;
    case 'storageUnavailable':
      return 503;
  }
}

function logOutcome(context: InvocationContext, outcome: NotificationOutcome): void {
  switch (outcome.kind) {
    case 'completed':
      context.log(summaryLine(outcome.summary));
      return;
    case 'stoppedEarly':
    case 'deadlineReached':
      context.error(summaryLine(outcome.summary));
      return;
    case 'alreadyRunning':
      context.warn(`notify: notification ${outcome.id} is already running; answered 409`);
      return;
    case 'idReused':
      context.warn(`notify: notification id ${outcome.id} was reused with a different message or target; answered 409`);
      return;
    case 'storageUnavailable':
      context.error(`notify: notification ${outcome.id} not sent: ${outcome.message}`);
      return;
  }
}

app.http('notify', {
  methods: ['GET', 'POST'],
  authLevel: 'function',
  route: 'notify',
  handler: notify,
});
