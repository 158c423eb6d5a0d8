import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { readJsonBody } from '../shared/http/jsonRequestBody';
import { notificationIdPattern } from '../shared/notifications/notificationRequest';
import { parseRemindRequest } from '../shared/queued/remindRequest';
import { TableUnavailableError } from '../shared/storage/tableClient';
import { getServices } from '../shared/services';

/**
 * POST /api/notifications/{id}/remind: sends the notification again, in the chats it was delivered
 * to, to those who have not acknowledged it (shared/queued/remindPass.ts), on the queues like a
 * send. 202 with the status (and the reminder's id); 400 bad body; 404 unknown id; 409 when the
 * notification did not ask for acknowledgements or was recalled; 413/415 as on create; 503 storage.
 */
export async function notificationRemind(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { settings, queued } = getServices();
  const id = request.params.id ?? '';
  const notFound: HttpResponseInit = { status: 404, jsonBody: { error: 'NotificationNotFound', id, message: `No notification has the id "${id}".` } };
  if (!notificationIdPattern.test(id)) return notFound;
  const read = await readJsonBody(request, settings.notifyMaxBodyBytes);
  if (!read.ok) return { status: read.refusal.status, jsonBody: read.refusal.body };
  const parsed = parseRemindRequest(read.text);
  if (!parsed.ok) return { status: 400, jsonBody: { error: 'InvalidReminder', message: parsed.errors.join(' '), errors: parsed.errors } };
  try {
    const outcome = await queued.remind(id, parsed.value.reminderId);
    switch (outcome.kind) {
      case 'notFound':
        return notFound;
      case 'notAcknowledgeable':
        return { status: 409, jsonBody: { error: 'NotAcknowledgeable', message: `Notification ${id} did not ask for acknowledgements: there is nobody to remind.` } };
      case 'recalled':
        return { status: 409, jsonBody: { error: 'NotificationRecalled', message: `Notification ${id} was recalled: it is not sent again.` } };
      case 'reminding':
        if (!outcome.existing) context.log(`notificationRemind: notification ${id}, reminder ${outcome.reminderId} started`);
        return { status: 202, headers: { Location: `/api/notifications/${id}` }, jsonBody: { reminderId: outcome.reminderId, ...outcome.status } };
    }
  } catch (error) {
    if (!(error instanceof TableUnavailableError)) throw error;
    context.error(`notificationRemind: ${error.message}`);
    return { status: 503, jsonBody: { error: 'StorageUnavailable', message: 'Storage is unreachable; try again shortly.' } };
  }
}

app.http('notificationRemind', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'notifications/{id}/remind',
  handler: notificationRemind,
});
