/**
 * Why Teams would not open a personal chat with someone: none of these is worth retrying, and
 * each is counted by its reason.
 *
 * - `blocked`: the person blocked the bot; Teams answers 403 with `MessageWritesBlocked`, as the
 *   error code or (as Learn shows it) as the `subCode` inside the message, with `errorCode` 209.
 * - `notInstalled`: the person has not installed the app and shares no team with it; Teams answers
 *   403 `BotNotInConversationRoster` ("The bot is not part of the conversation roster.", seen by
 *   Company Communicator's users for people who never installed the bot); some report 403
 *   `ForbiddenOperationException` instead, read the same way.
 * - `notFound`: no such person in the tenant (left the organisation): a 404.
 */
export type CreateRefusalReason = 'blocked' | 'notInstalled' | 'notFound';

export interface CreateRefusal {
  readonly reason: CreateRefusalReason;
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

const blockedMarkers = ['MessageWritesBlocked', '"errorCode":209'];
const notInstalledMarkers = ['BotNotInConversationRoster', 'ForbiddenOperationException'];

/** The refusal a failed create carries, or undefined when it is another failure (throttling, credentials, ...). */
export function createRefusalOf(error: unknown): CreateRefusal | undefined {
  const { status, code, body, message } = shapeOf(error);
  const says = (markers: readonly string[]): boolean => markers.some((marker) => code === marker || body.includes(marker));
  if (status === 403 && says(blockedMarkers)) return { reason: 'blocked', status, code: 'MessageWritesBlocked', message };
  if (status === 403 && says(notInstalledMarkers)) return { reason: 'notInstalled', status, code: code ?? 'BotNotInConversationRoster', message };
  if (status === 404) return { reason: 'notFound', status, code: code ?? 'NotFound', message };
  return undefined;
}

interface ErrorShape {
  readonly status?: number;
  readonly code?: string;
  /** The answer's body text (where Teams puts MessageWritesBlocked), '' when unknown. */
  readonly body: string;
  readonly message: string;
}

/** A RestError's status, error code, body and message. */
function shapeOf(error: unknown): ErrorShape {
  if (typeof error !== 'object' || error === null) return { body: '', message: String(error) };
  const record = error as Record<string, unknown>;
  const response = record['response'];
  const bodyText = typeof response === 'object' && response !== null ? (response as Record<string, unknown>)['bodyAsText'] : undefined;
  return {
    ...(typeof record['statusCode'] === 'number' ? { status: record['statusCode'] } : {}),
    ...(typeof record['code'] === 'string' && record['code'] !== '' ? { code: record['code'] } : {}),
    body: (typeof bodyText === 'string' ? bodyText : '').replace(/\s+/g, ''),
    message: typeof record['message'] === 'string' ? record['message'] : String(error),
  };
}
