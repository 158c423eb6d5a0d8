import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { handleMessagesRequest } from '../shared/bot/messagesEndpoint';
import { readJsonBody } from '../shared/http/jsonRequestBody';
import { getServices } from '../shared/services';

/** The bot's messaging endpoint: Bot Service (or the Emulator) posts activities here. */
export async function messages(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { adapter, bot, settings } = getServices();
  const read = await readJsonBody(request, settings.messagesMaxBodyBytes);
  if (!read.ok) {
    context.warn(`messages: answered ${read.refusal.status}: ${read.refusal.body.message}`);
    return { status: read.refusal.status, jsonBody: read.refusal.body };
  }
  const response = await handleMessagesRequest(adapter, bot, {
    method: request.method,
    authorization: request.headers.get('authorization') ?? undefined,
    bodyText: read.text,
  });
  if (response.storageOutage !== undefined) {
    context.error(
      `messages: table "${settings.conversationsTable}" unavailable while saving a conversation reference; answered 503: ${response.storageOutage.message}`,
    );
  } else if (response.status >= 400) {
    context.warn(`messages: answered ${response.status}`, response.body);
  }
  const headers = response.headers ?? {};
  if (response.body === undefined) return { status: response.status, headers };
  return typeof response.body === 'string'
    ? { status: response.status, headers, body: response.body }
    : { status: response.status, headers, jsonBody: response.body };
}

app.http('messages', {
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: messages,
});
