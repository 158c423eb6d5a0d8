import { parseRetryAfter } from './retryPolicy';
import type { AppType } from '../settings';

/**
 * What a failed proactive send means for the delivery engine.
 *
 * botbuilder surfaces channel errors as `RestError` (@azure/core-rest-pipeline)
 * thrown from `sendActivity`: `statusCode` is the HTTP status, `code` the
 * `error.code` of a `{"error":{"code","message"}}` body (absent for the
 * Connector's 401, whose body is `{"message": ...}`), `response.headers`
 * holds Retry-After. Network failures are `RestError`s without `statusCode`
 * whose `code` is the socket error (`ECONNRESET`, `ECONNREFUSED`, ...).
 */
export type DeliveryFailure =
  /** The conversation is gone for good: the stored reference should be deleted. */
  | FailureBase<'gone'>
  /** Worth trying again (throttled, server error, network); `retryAfterMs` when the channel said when. */
  | (FailureBase<'retryable'> & { readonly retryAfterMs?: number })
  /** The bot's own credentials were refused (a token endpoint that cannot be reached is retryable): every other send will fail too. */
  | FailureBase<'credentials'>
  /** Our side cannot send at all (e.g. an unexpected botbuilder version): stop the run. */
  | FailureBase<'fatal'>
  /** This recipient cannot get this message; retrying will not help, the reference stays. */
  | FailureBase<'permanent'>;

interface FailureBase<Kind extends string> {
  readonly kind: Kind;
  /** HTTP status; absent for network errors, timeouts and token failures. */
  readonly status?: number;
  readonly code: string;
  readonly message: string;
}

export type DeliveryFailureKind = DeliveryFailure['kind'];

/** The bot could not get or present credentials (token acquisition, app id mismatch). */
export class CredentialsError extends Error {
  constructor(message: string, override readonly cause: unknown) {
    super(`${message}: ${describe(cause)}`);
    this.name = 'CredentialsError';
  }
}

/** botbuilder's connector client no longer looks the way the proactive sender relies on. */
export class ConnectorInternalsChangedError extends Error {
  constructor(detail: string) {
    super(`Cannot make single-attempt sends with this botbuilder version: ${detail}`);
    this.name = 'ConnectorInternalsChangedError';
  }
}

/** One HTTP attempt took longer than allowed; the request was aborted. */
export class SendTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`No answer from the channel within ${timeoutMs} ms`);
    this.name = 'SendTimeoutError';
  }
}

const retryableStatuses: ReadonlySet<number> = new Set([412, 429, 500, 502, 503, 504]);
const goneForbiddenCodes: ReadonlySet<string> = new Set([
  'BotNotInConversationRoster',
  'ConversationBlockedByUser',
  'BotDisabledByAdmin',
]);
const networkErrorCodes: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'REQUEST_SEND_ERROR',
]);

/** What to check when the bot's credentials were refused, for the way the bot signs in (MicrosoftAppType). */
export function credentialsHint(appType: AppType): string {
  return appType === 'UserAssignedMSI'
    ? 'the bot credentials were refused: check that the user-assigned managed identity whose client id is MicrosoftAppId is assigned to the function app and is the Azure Bot\'s identity (and MicrosoftAppTenantId)'
    : 'the bot credentials were refused: check MicrosoftAppId and MicrosoftAppPassword (and MicrosoftAppType / MicrosoftAppTenantId)';
}

export function classifyDeliveryError(error: unknown, nowEpochMs: number = Date.now()): DeliveryFailure {
  if (error instanceof CredentialsError) {
    return tokenFailureIsTransient(error.cause)
      ? { kind: 'retryable', code: 'TokenUnavailable', message: error.message }
      : { kind: 'credentials', code: 'CredentialsUnavailable', message: error.message };
  }
  if (error instanceof ConnectorInternalsChangedError) {
    return { kind: 'fatal', code: 'ConnectorInternalsChanged', message: error.message };
  }
  if (error instanceof SendTimeoutError) {
    return { kind: 'retryable', code: 'Timeout', message: error.message };
  }
  const shape = readErrorShape(error);
  if (shape.status === undefined) {
    if (shape.code !== undefined && networkErrorCodes.has(shape.code)) {
      return { kind: 'retryable', code: 'NetworkError', message: `${shape.code}: ${shape.message}` };
    }
    return { kind: 'permanent', code: shape.code ?? shape.name ?? 'Error', message: shape.message };
  }
  return classifyHttpFailure(shape.status, shape.code, shape.message, parseRetryAfter(shape.retryAfter, nowEpochMs));
}

/** OAuth / MSAL error codes for a token the identity provider refused: the bot's configuration is wrong. */
const tokenRefusedCodes: ReadonlySet<string> = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_grant',
  'invalid_request',
  'invalid_scope',
  'unsupported_grant_type',
]);
/** MSAL error codes for a token endpoint that could not be reached or asked to come back later. */
const tokenUnavailableCodes: ReadonlySet<string> = new Set(['network_error', 'temporarily_unavailable']);

/**
 * Whether a failure to get a token (the cause of a CredentialsError) is worth retrying: the
 * token endpoint could not be reached (network error, timeout), failed (5xx) or throttled (429).
 * Read from typed fields only: `statusCode`/`status`/`httpStatus`, MSAL's `errorCode`
 * (ClientAuthError `network_error` vs ServerError `invalid_client`), a socket `code`, following
 * `cause` (and MSAL NetworkError's `error`). Anything else, a refusal (400/401 from the token
 * endpoint, `invalid_client` for AADSTS7000215, `unauthorized_client`) or an error with nothing
 * to tell, is taken as credentials that will not work for any recipient.
 */
export function tokenFailureIsTransient(cause: unknown): boolean {
  let error = cause;
  for (let depth = 0; depth < 5 && typeof error === 'object' && error !== null; depth++) {
    if (error instanceof SendTimeoutError) return true;
    const record = error as Record<string, unknown>;
    const status = [record['statusCode'], record['status'], record['httpStatus']].find((value): value is number => typeof value === 'number');
    if (status !== undefined) return status === 408 || status === 429 || status >= 500;
    const errorCode = typeof record['errorCode'] === 'string' ? record['errorCode'] : undefined;
    if (errorCode !== undefined && tokenRefusedCodes.has(errorCode)) return false;
    if (errorCode !== undefined && tokenUnavailableCodes.has(errorCode)) return true;
    const code = record['code'];
    if (typeof code === 'string' && networkErrorCodes.has(code)) return true;
    if (record['name'] === 'AbortError' || record['name'] === 'TimeoutError') return true;
    error = record['cause'] ?? record['error'];
  }
  return false;
}

export function classifyHttpFailure(
  status: number,
  code: string | undefined,
  message: string,
  retryAfterMs?: number,
): DeliveryFailure {
  const named = code ?? `Http${status}`;
  if (status === 401) return { kind: 'credentials', status, code: code ?? 'Unauthorized', message };
  // Only the Bot Connector's own verdict prunes: a bare 404 may come from a proxy or a wrong serviceUrl.
  if (status === 404 && code === 'ConversationNotFound') return { kind: 'gone', status, code, message };
  if (status === 403 && code !== undefined && goneForbiddenCodes.has(code)) return { kind: 'gone', status, code, message };
  if (retryableStatuses.has(status)) {
    return retryAfterMs === undefined
      ? { kind: 'retryable', status, code: named, message }
      : { kind: 'retryable', status, code: named, message, retryAfterMs };
  }
  // 403 MessageWritesBlocked, 413 MessageSizeTooBig, 400 BadArgument and the rest: this message will not get through.
  return { kind: 'permanent', status, code: named, message };
}

interface ErrorShape {
  readonly status?: number;
  readonly code?: string;
  readonly name?: string;
  readonly message: string;
  readonly retryAfter?: string;
}

/** Reads the fields a RestError (or a look-alike from another copy of the library) carries. */
function readErrorShape(error: unknown): ErrorShape {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const record = error as Record<string, unknown>;
  const status = typeof record['statusCode'] === 'number' ? record['statusCode'] : undefined;
  const code = typeof record['code'] === 'string' && record['code'] !== '' ? record['code'] : undefined;
  const name = typeof record['name'] === 'string' ? record['name'] : undefined;
  const message = typeof record['message'] === 'string' ? record['message'] : String(error);
  return {
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(name !== undefined ? { name } : {}),
    message,
    ...optionalRetryAfter(record['response']),
  };
}

function optionalRetryAfter(response: unknown): { retryAfter?: string } {
  if (typeof response !== 'object' || response === null) return {};
  const headers = (response as Record<string, unknown>)['headers'];
  if (typeof headers !== 'object' || headers === null) return {};
  const get = (headers as Record<string, unknown>)['get'];
  if (typeof get !== 'function') return {};
  const value: unknown = get.call(headers, 'retry-after');
  return typeof value === 'string' ? { retryAfter: value } : {};
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
