import type { ActivityHandler, CloudAdapter, Request, Response } from 'botbuilder';

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
}

/**
 * Validates the body, then lets CloudAdapter authenticate the request and run
 * the bot. Bad input is answered with 400 here, because CloudAdapter turns a
 * body without a string `type` into a 500.
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
  await adapter.process(botRequest, collected, (context) => bot.run(context));
  return collected.toBotHttpResponse();
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
