// http/: what the HTTP functions share about request bodies (size limit, JSON content type), without @azure/functions.
// May import nothing from the app.

/** What reading a body needs of a request; `@azure/functions`' HttpRequest has both. */
export interface BodySource {
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
}

/** A 4xx answer: the status and a JSON body that says what is wrong. */
export interface BodyRefusal {
  readonly status: 413 | 415;
  readonly body: {
    readonly error: 'RequestBodyTooLarge' | 'UnsupportedMediaType';
    readonly message: string;
  };
}

export type JsonBodyRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly refusal: BodyRefusal };

/**
 * Reads a JSON request body as text, refusing it before it is parsed:
 * - 415 when the request claims a content type other than JSON (`application/json`,
 *   `application/<something>+json`) or a charset other than UTF-8; no content type is accepted;
 * - 413 when it is longer than `maxBytes`, decided from `Content-Length` before
 *   reading anything, or as soon as more than `maxBytes` arrived (the rest is not read).
 *
 *   const read = await readJsonBody(request, settings.notifyMaxBodyBytes);
 *   if (!read.ok) return { status: read.refusal.status, jsonBody: read.refusal.body };
 *   const parsed = parseSomething(read.text);
 */
export async function readJsonBody(request: BodySource, maxBytes: number): Promise<JsonBodyRead> {
  const contentType = request.headers.get('content-type');
  if (contentType !== null && contentType.trim() !== '' && !isJsonContentType(contentType)) {
    return refuse(415, 'UnsupportedMediaType', `The request body must be JSON (Content-Type: application/json), not "${contentType.slice(0, 100)}".`);
  }

  const declaredLength = Number(request.headers.get('content-length') ?? '');
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) return tooLarge(maxBytes);
  if (request.body === null) return { ok: true, text: '' };

  const reader = request.body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      return tooLarge(maxBytes);
    }
    text += decoder.decode(value, { stream: true });
  }
  return { ok: true, text: text + decoder.decode() };
}

function isJsonContentType(contentType: string): boolean {
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (!/^application\/(?:[\w.+-]+\+)?json$/.test(mediaType)) return false;
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

function tooLarge(maxBytes: number): JsonBodyRead {
  return refuse(413, 'RequestBodyTooLarge', `The request body is larger than ${maxBytes} bytes, the most this endpoint accepts.`);
}

function refuse(status: BodyRefusal['status'], error: BodyRefusal['body']['error'], message: string): JsonBodyRead {
  return { ok: false, refusal: { status, body: { error, message } } };
}
