import { RestError, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';

/**
 * What botbuilder throws when the channel answers with an error: a RestError
 * whose `code` is the `error.code` of the body (checked against the fake connector).
 */
export function channelError(status: number, code?: string, retryAfter?: string): RestError {
  const request = createPipelineRequest({ url: 'http://127.0.0.1/v3/conversations/c/activities' });
  const headers = createHttpHeaders(retryAfter === undefined ? {} : { 'retry-after': retryAfter });
  return new RestError(`answered ${status}${code === undefined ? '' : ` ${code}`}`, {
    statusCode: status,
    ...(code === undefined ? {} : { code }),
    request,
    response: { status, headers, request },
  });
}

/** What botbuilder throws when the connection breaks. */
export function networkError(code = 'ECONNRESET'): RestError {
  return new RestError('socket hang up', { code });
}
