import type { ActivityHandler, CloudAdapter, Request, Response, TurnContext } from 'botbuilder';
import { StoreUnavailableError } from '../storage/tableConversationStore';

/** What the messaging endpoint needs of an HTTP request, whatever host received it. */
export interface BotHttpRequest {
  readonly method: string;
  readonly authorization: string | undefined;
  readonly bodyText: string;
}

export interface BotHttpResponse {
  readonly status: number;
  /** An object is sent as JSON, a string as text. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Why the answer is 503: the conversation table could not be reached while capturing. */
  readonly storageOutage?: StoreUnavailableError;
}

/** How long a channel should wait before posting again after a storage outage. */
export const storageOutageRetryAfterSeconds = 10;

/**
 * Validates the body, then lets CloudAdapter authenticate the request and run
 * the bot. Bad input is answered with 400 here, because CloudAdapter turns a
 * body without a string `type` into a 500. A refused token is 401 with a JSON
 * reason; a conversation table that cannot be reached is 503 with Retry-After;
 * any other failure 500, without the error's text (it stays in the log).
 */
export async function handleMessagesRequest(
  adapter: CloudAdapter,
  bot: ActivityHandler,
  request: BotHttpRequest,
): Promise<BotHttpResponse> {
  const parsed = parseActivity(request.bodyText);
  if ('error' in parsed) return { status: 400, body: { error: parsed.error } };

  const headers: Record<string, string> = {};
  if (request.authorization !== undefined) headers.authorization = request.authorization;
  const botRequest: Request = { method: request.method, headers, body: parsed.activity };
  const collected = new CollectedResponse();
  let storageOutage: StoreUnavailableError | undefined;
  const logic = async (context: TurnContext): Promise<void> => {
    try {
      await bot.run(context);
    } catch (error) {
      if (error instanceof StoreUnavailableError) storageOutage = error;
      throw error;
    }
  };
  await adapter.process(botRequest, collected, logic);
  if (storageOutage !== undefined) {
    return {
      status: 503,
      headers: { 'Retry-After': String(storageOutageRetryAfterSeconds) },
      body: { error: 'StorageUnavailable', message: 'The conversation could not be saved because storage is unavailable; try again later.' },
      storageOutage,
    };
  }
  const answered = collected.toBotHttpResponse();
  if (answered.status === 401) {
    return { status: 401, body: { error: 'Unauthorized', message: typeof answered.body === 'string' ? answered.body : 'The request is not authorized.' } };
  }
  if (answered.status >= 500) {
    return { status: answered.status, body: { error: 'InternalError', message: 'The bot could not handle the activity.' } };
  }
  return answered;
}

type ParsedActivity = { readonly activity: Record<string, unknown> } | { readonly error: string };

function parseActivity(bodyText: string): ParsedActivity {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { error: 'The request body is not valid JSON.' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: 'The request body must be a JSON object (a Bot Framework activity).' };
  }
  const activity = body as Record<string, unknown>;
  if (typeof activity.type !== 'string' || activity.type === '') {
    return { error: 'The activity has no "type"; expected a Bot Framework activity such as "message".' };
  }
  return { activity };
}

/** The express-like response CloudAdapter writes to, kept in memory. */
class CollectedResponse implements Response {
  readonly socket = null;
  private statusCode = 200;
  private body: unknown;

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  header(): this {
    return this;
  }

  send(body?: unknown): this {
    this.body = body;
    return this;
  }

  end(): this {
    return this;
  }

  toBotHttpResponse(): BotHttpResponse {
    return this.body === undefined ? { status: this.statusCode } : { status: this.statusCode, body: this.body };
  }
}
