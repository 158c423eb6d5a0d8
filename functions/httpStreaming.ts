import { app } from '@azure/functions';

/**
 * HTTP streaming for the whole app (a setting of the Node worker, not of one function): an HTTP
 * response body may be a stream or an async iterable and goes to the client as it is produced,
 * instead of being collected into one buffer first. The per-recipient CSV export needs it
 * (functions/notificationRecipients.ts): 100,000 rows are streamed, never held. Requests then reach
 * the functions through the worker's HTTP proxy (Functions host 4.28 or later); the local host does
 * the same (scripts/localHost/http.ts).
 */
app.setup({ enableHttpStream: true });
