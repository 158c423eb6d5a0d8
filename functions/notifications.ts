import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { readJsonBody } from '../shared/http/jsonRequestBody';
import { notificationIdPattern, parseMessageEdit, parseNotificationRequest } from '../shared/notifications/notificationRequest';
import type { ResolvedSource } from '../shared/audience/audienceSource';
import { resolveAudience } from '../shared/audience/resolveAudience';
import { TableUnavailableError } from '../shared/storage/tableClient';
import { getServices } from '../shared/services';

/**
 * Queued notifications (shared/queued/):
 *
 * - POST /api/notifications: the body of POST /api/notify, plus an optional
 *   `sendAt` (ISO 8601 with a UTC offset, up to 7 days ahead: the notification is
 *   `scheduled` until then). 202 at once with `Location` and `{ id, state, statusUrl }`
 *   (and `sendAt` when scheduled); the same id and body again: 202
 *   with the existing notification; the same id with another body: 409; an
 *   invalid body: 400; over NOTIFY_MAX_BODY_BYTES: 413; not JSON: 415;
 *   storage unreachable: 503.
 * - GET /api/notifications?limit=&after=: recent notifications, newest first.
 * - GET /api/notifications/{id}?failuresAfter=: progress, the message as it reads now (`content`) and a page of failures; 404 unknown.
 * - DELETE /api/notifications/{id}: cancel (a scheduled one is then never sent); 409 once completed or failed.
 * - PATCH /api/notifications/{id}: edit (`text` and/or `card`): 202 with the status; 400 bad body; 404 unknown;
 *   409 recalled, or cancelled before anything was delivered; 413/415 as on create.
 * - POST /api/notifications/{id}/recall: stop the send and delete the message in every chat: 202 with the status; 404 unknown.
 */
export async function notifications(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { settings, queued, store } = getServices();
  if (request.method === 'GET') {
    const limit = pageLimit(request.query.get('limit'));
    if (limit === undefined) return { status: 400, jsonBody: { errors: ['"limit" must be a whole number from 1 to 100.'] } };
    return answerOrOutage<HttpResponseInit>(context, async () => ({ status: 200, jsonBody: await queued.list(limit, request.query.get('after') ?? undefined) }));
  }

  // The same body as POST /api/notify, so the same limit.
  const read = await readJsonBody(request, settings.notifyMaxBodyBytes);
  if (!read.ok) {
    context.warn(`notifications: answered ${read.refusal.status}: ${read.refusal.body.message}`);
    return { status: read.refusal.status, jsonBody: read.refusal.body };
  }
  const parsed = parseNotificationRequest(read.text, settings, { sendAtFrom: new Date(), queued: true });
  if (!parsed.ok) {
    context.warn(`notifications: refused an invalid request: ${parsed.errors.join(' ')}`);
    return { status: 400, jsonBody: { errors: parsed.errors } };
  }
  let audience: readonly ResolvedSource[] | undefined;
  if (parsed.value.audience !== undefined) {
    const resolved = await answerOrOutage(context, async () => resolveAudience(parsed.value.audience ?? [], { listTeams: () => store.listTeams(), defaultTenantId: settings.microsoftAppTenantId }));
    if (!('ok' in resolved)) return resolved;
    if (!resolved.ok) {
      context.warn(`notifications: refused an audience it cannot resolve: ${resolved.errors.join(' ')}`);
      return { status: 400, jsonBody: { errors: resolved.errors } };
    }
    audience = resolved.value;
  }
  const outcome = await queued.submit(parsed.value, audience);
  switch (outcome.kind) {
    case 'accepted': {
      const statusUrl = `/api/notifications/${outcome.id}`;
      context.log(`notifications: ${outcome.existing ? 'already had' : 'queued'} notification ${outcome.id} (${outcome.state})`);
      const sendAt = outcome.sendAt === undefined ? {} : { sendAt: outcome.sendAt.toISOString() };
      return { status: 202, headers: { Location: statusUrl }, jsonBody: { id: outcome.id, state: outcome.state, statusUrl, ...sendAt } };
    }
    case 'idReused':
      context.warn(`notifications: id ${outcome.id} was reused with a different message or target; answered 409`);
      return {
        status: 409,
        jsonBody: {
          error: 'NotificationIdReused',
          id: outcome.id,
          message: `Notification ${outcome.id} was created with a different message or target; use a new id for a new notification.`,
        },
      };
    case 'tooLarge':
      return { status: 413, jsonBody: { error: 'RequestTooLarge', message: outcome.message } };
    case 'storageUnavailable':
      context.error(`notifications: notification ${outcome.id} not queued: ${outcome.message}`);
      return { status: 503, jsonBody: { error: 'StorageUnavailable', id: outcome.id, message: 'Storage is unreachable; nothing was queued. Retry with the same id.' } };
  }
}

export async function notificationById(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { queued } = getServices();
  const id = request.params.id ?? '';
  const notFound: HttpResponseInit = { status: 404, jsonBody: { error: 'NotificationNotFound', id, message: `No notification has the id "${id}".` } };
  if (!notificationIdPattern.test(id)) return notFound;

  if (request.method === 'PATCH') return editNotification(request, context, id, notFound);
  if (request.method === 'DELETE') {
    return answerOrOutage<HttpResponseInit>(context, async () => {
      const outcome = await queued.cancel(id);
      if (outcome.kind === 'notFound') return notFound;
      if (outcome.kind === 'alreadyEnded') {
        // The status goes first: its own `error` (why a notification failed) must not replace the name of this error.
        const { status } = outcome;
        const reason = status.error === undefined ? '' : `: ${status.error}`;
        return { status: 409, jsonBody: { ...status, error: 'NotificationEnded', message: `Notification ${id} has already ${status.state}${reason}.` } };
      }
      context.log(`notifications: notification ${id} cancelled`);
      return { status: 200, jsonBody: outcome.status };
    });
  }
  return answerOrOutage<HttpResponseInit>(context, async () => {
    const status = await queued.status(id, request.query.get('failuresAfter') ?? undefined);
    return status === undefined ? notFound : { status: 200, jsonBody: status };
  });
}

async function editNotification(request: HttpRequest, context: InvocationContext, id: string, notFound: HttpResponseInit): Promise<HttpResponseInit> {
  const { settings, queued } = getServices();
  const read = await readJsonBody(request, settings.notifyMaxBodyBytes);
  if (!read.ok) return { status: read.refusal.status, jsonBody: read.refusal.body };
  const parsed = parseMessageEdit(read.text, settings);
  if (!parsed.ok) {
    context.warn(`notifications: refused an invalid edit of ${id}: ${parsed.errors.join(' ')}`);
    return { status: 400, jsonBody: { error: 'InvalidEdit', message: parsed.errors.join(' '), errors: parsed.errors } };
  }
  return answerOrOutage(context, async () => {
    const outcome = await queued.edit(id, parsed.value);
    switch (outcome.kind) {
      case 'notFound':
        return notFound;
      case 'tooLarge':
        return { status: 413, jsonBody: { error: 'RequestTooLarge', message: outcome.message } };
      case 'notEditable': {
        const { status } = outcome;
        const why = status.state === 'recalled' ? 'was recalled' : 'was cancelled before it reached anybody';
        return { status: 409, jsonBody: { ...status, error: 'NotificationNotEditable', message: `Notification ${id} ${why}: there is no message to edit.` } };
      }
      case 'edited':
        context.log(`notifications: notification ${id} edited (revision ${outcome.status.revision})`);
        return { status: 202, headers: { Location: `/api/notifications/${id}` }, jsonBody: outcome.status };
    }
  });
}

export async function notificationRecall(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { queued } = getServices();
  const id = request.params.id ?? '';
  const notFound: HttpResponseInit = { status: 404, jsonBody: { error: 'NotificationNotFound', id, message: `No notification has the id "${id}".` } };
  if (!notificationIdPattern.test(id)) return notFound;
  return answerOrOutage(context, async () => {
    const outcome = await queued.recall(id);
    if (outcome.kind === 'notFound') return notFound;
    if (!outcome.existing) context.log(`notifications: notification ${id} recalled`);
    return { status: 202, headers: { Location: `/api/notifications/${id}` }, jsonBody: outcome.status };
  });
}

/** 20 by default, at most 100; undefined when malformed. */
function pageLimit(raw: string | null): number | undefined {
  if (raw === null || raw === '') return 20;
  const limit = Number(raw);
  return Number.isInteger(limit) && limit >= 1 && limit <= 100 ? limit : undefined;
}

async function answerOrOutage<T>(context: InvocationContext, answer: () => Promise<T>): Promise<T | HttpResponseInit> {
  try {
    return await answer();
  } catch (error) {
    if (!(error instanceof TableUnavailableError)) throw error;
    context.error(`notifications: ${error.message}`);
    return { status: 503, jsonBody: { error: 'StorageUnavailable', message: 'Storage is unreachable; try again shortly.' } };
  }
}

app.http('notifications', {
  methods: ['GET', 'POST'],
  authLevel: 'function',
  route: 'notifications',
  handler: notifications,
});

app.http('notificationById', {
  methods: ['GET', 'DELETE', 'PATCH'],
  authLevel: 'function',
  route: 'notifications/{id}',
  handler: notificationById,
});

app.http('notificationRecall', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'notifications/{id}/recall',
  handler: notificationRecall,
});
