import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { notificationIdPattern } from '../shared/notifications/notificationRequest';
import { recipientCsv } from '../shared/queued/recipientCsv';
import { RecipientCursorError, RecipientExport } from '../shared/queued/recipientExport';
import { parseRecipientQuery } from '../shared/queued/recipientQuery';
import { TableUnavailableError } from '../shared/storage/tableClient';
import { getServices } from '../shared/services';

/** Seconds a client is asked to wait after a storage outage. */
const outageRetryAfterSeconds = 10;

/**
 * GET /api/notifications/{id}/recipients: one row per recipient of a queued notification and its
 * outcome (shared/queued/recipientExport.ts). Paged JSON (`limit`, `after` = the previous page's
 * `nextAfter`), or `?format=csv`: every row, produced as it is read (the worker buffers the
 * finished file, about 5 MB per 100,000 rows, as the app does not turn on HTTP streaming). Filters `outcome` and
 * `acknowledged`. 400 names a malformed parameter; 404 an unknown id; 503 with Retry-After when
 * storage is unreachable (before the first byte: a CSV cut by an outage midway ends abruptly).
 */
export async function notificationRecipients(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? '';
  const notFound: HttpResponseInit = { status: 404, jsonBody: { error: 'NotificationNotFound', id, message: `No notification has the id "${id}".` } };
  if (!notificationIdPattern.test(id)) return notFound;
  const parsed = parseRecipientQuery(request.query);
  if (!parsed.ok) return { status: 400, jsonBody: { errors: parsed.errors } };
  const { format, limit, after, filter } = parsed.value;
  const recipients = new RecipientExport(getServices().queued.deps);
  try {
    const notification = await recipients.notification(id);
    if (notification === undefined) return notFound;
    if (format === 'json') return { status: 200, jsonBody: await recipients.page(notification, filter, limit, after) };
    context.log(`notificationRecipients: writing the recipients of ${id} as CSV`);
    return {
      status: 200,
      headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${id}-recipients.csv"` },
      body: recipientCsv(recipients.rows(notification, filter)),
    };
  } catch (error) {
    if (error instanceof RecipientCursorError) return { status: 400, jsonBody: { errors: [error.message] } };
    if (!(error instanceof TableUnavailableError)) throw error;
    context.error(`notificationRecipients: ${error.message}`);
    return {
      status: 503,
      headers: { 'Retry-After': String(outageRetryAfterSeconds) },
      jsonBody: { error: 'StorageUnavailable', message: 'Storage is unreachable; try again shortly.' },
    };
  }
}

app.http('notificationRecipients', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'notifications/{id}/recipients',
  handler: notificationRecipients,
});
