import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { FunctionsRegistry, HttpCookie, HttpData, RegisteredFunction } from './core';
import { invokeFunction } from './invoke';
import { describeError, type HostLog } from './log';
import { CompiledRoute, compareRoutePrecedence, safeDecode, type RouteParams } from './routes';

/** The Functions host's default request body limit (100 MB); `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` changes it. */
export const defaultMaxRequestBodyBytes = 100 * 1024 * 1024;

/** Azure refuses a URL (path and query) longer than 4 KB. */
const maxUrlLength = 4096;

/** `name`, `name:port`, `1.2.3.4:port` or `[::1]:port`: anything else in Host is refused, as Kestrel does. */
const validHost = /^(?:[\w.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export interface HttpRoute {
  readonly registered: RegisteredFunction;
  readonly route: CompiledRoute;
  /** Upper-case; undefined means every method, as when `methods` is not set. */
  readonly methods: ReadonlySet<string> | undefined;
  /** For the start-up listing, e.g. `api/items/{id:int}`. */
  readonly template: string;
}

export function httpRoute(registered: RegisteredFunction, routePrefix: string, route: string | null | undefined, methods: readonly string[] | null | undefined): HttpRoute {
  const routePart = (route ?? registered.metadata.name).replace(/^\/+|\/+$/g, '');
  const template = [routePrefix, routePart].filter((part) => part !== '').join('/');
  return {
    registered,
    route: new CompiledRoute(template),
    methods: methods && methods.length > 0 ? new Set(methods.map((method) => method.toUpperCase())) : undefined,
    template,
  };
}

export type ManualRunOutcome = 'accepted' | 'notFound' | 'notRunnableByHand';

export interface HttpHostDependencies {
  readonly registry: FunctionsRegistry;
  readonly log: HostLog;
  readonly routes: readonly HttpRoute[];
  /** `POST /admin/functions/{name}`: starts a non-HTTP function with `input`. */
  runByHand(functionName: string, input: string): ManualRunOutcome;
  /** Larger bodies get 413 before any function runs; default 100 MB. */
  readonly maxRequestBodyBytes?: number;
}

type Routing =
  | { readonly kind: 'found'; readonly route: HttpRoute; readonly params: RouteParams }
  | { readonly kind: 'methodNotAllowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'notFound' };

export function createRequestListener(dependencies: HttpHostDependencies): RequestListener {
  const routes = [...dependencies.routes].sort((left, right) => compareRoutePrecedence(left.route, right.route));
  return (request, response) => {
    handleRequest(dependencies, routes, request, response).catch((error: unknown) => {
      // The path only: a query may hold a function key (`?code=`).
      const path = (request.url ?? '/').split('?')[0];
      dependencies.log.error(`Local host failed on ${request.method} ${path}: ${describeError(error)}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  };
}

async function handleRequest(
  dependencies: HttpHostDependencies,
  routes: readonly HttpRoute[],
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const method = (request.method ?? 'GET').toUpperCase();
  if ((request.url ?? '').length > maxUrlLength) return answer(response, 414, `URL longer than ${maxUrlLength} characters`);
  const url = requestUrl(request);
  if (url === undefined) return answer(response, 400, 'Bad Host header or request target');
  const maxBodyBytes = dependencies.maxRequestBodyBytes ?? defaultMaxRequestBodyBytes;
  const body = await readBody(request, maxBodyBytes);
  if (body === undefined) {
    // The rest of the body is never read: the connection closes after the answer.
    response.setHeader('Connection', 'close');
    return answer(response, 413, `Request body larger than ${maxBodyBytes} bytes`);
  }

  const adminRun = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
  if (adminRun?.[1] !== undefined && method === 'POST') {
    return runByHand(dependencies, safeDecode(adminRun[1]), body, response);
  }
  if (/^\/admin\/host\/status\/?$/i.test(url.pathname) && method === 'GET') {
    return answer(response, 200, JSON.stringify({ state: 'Running' }), 'application/json; charset=utf-8');
  }

  const routing = findRoute(routes, method, url.pathname);
  if (routing.kind === 'notFound') return answer(response, 404);
  if (routing.kind === 'methodNotAllowed') {
    response.setHeader('Allow', routing.allowed.join(', '));
    return answer(response, 405);
  }

  const http: HttpData = {
    method,
    url: url.toString(),
    headers: flattenHeaders(request),
    params: routing.params,
    body: body.length > 0 ? { bytes: body } : null,
  };
  const { registered } = routing.route;
  const result = await invokeFunction(dependencies.registry, dependencies.log, registered, { http }, `${method} ${url.pathname}`);
  if (!result.succeeded) return answer(response, 500);
  writeFunctionResponse(response, method, result.response.returnValue?.http ?? undefined);
}

/** The full URL of the request, or undefined when its Host header or target cannot be one. */
function requestUrl(request: IncomingMessage): URL | undefined {
  const host = request.headers.host || '127.0.0.1';
  if (!validHost.test(host)) return undefined;
  const target = request.url ?? '/';
  try {
    // A path is appended rather than resolved, so `//other/path` stays a path instead of naming a host.
    return target.startsWith('/') ? new URL(`http://${host}${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

function findRoute(routes: readonly HttpRoute[], method: string, pathname: string): Routing {
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = route.route.match(pathname);
    if (params === undefined) continue;
    if (route.methods === undefined || route.methods.has(method)) return { kind: 'found', route, params };
    for (const allowedMethod of route.methods) allowed.add(allowedMethod);
  }
  return allowed.size > 0 ? { kind: 'methodNotAllowed', allowed: [...allowed] } : { kind: 'notFound' };
}

function runByHand(dependencies: HttpHostDependencies, functionName: string, body: Buffer, response: ServerResponse): void {
  let input = '';
  if (body.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(response, 400, 'The body must be JSON like {"input": ""}');
    }
    if (typeof parsed === 'object' && parsed !== null && 'input' in parsed) {
      const value: unknown = parsed.input;
      input = typeof value === 'string' ? value : JSON.stringify(value ?? '');
    }
  }
  const outcome = dependencies.runByHand(functionName, input);
  if (outcome === 'notFound') return answer(response, 404);
  if (outcome === 'notRunnableByHand') return answer(response, 400, 'HTTP functions are run by calling their route');
  answer(response, 202);
}

function writeFunctionResponse(response: ServerResponse, method: string, http: HttpData | undefined): void {
  const status = Number(http?.statusCode ?? 200) || 200;
  for (const [name, value] of Object.entries(http?.headers ?? {})) response.setHeader(name, value);
  const cookies = (http?.cookies ?? []).map(formatCookie);
  if (cookies.length > 0) response.appendHeader('Set-Cookie', cookies);
  const bytes = http?.body?.bytes;
  const body = bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0);
  response.setHeader('Content-Length', body.length);
  response.writeHead(status);
  response.end(method === 'HEAD' ? undefined : body);
}

const sameSiteNames: Readonly<Record<string, string>> = { lax: 'Lax', strict: 'Strict', explicitNone: 'None' };

function formatCookie(cookie: HttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const expiresSeconds = cookie.expires?.value?.seconds;
  if (expiresSeconds !== undefined && expiresSeconds !== null) {
    parts.push(`Expires=${new Date(Number(expiresSeconds) * 1000).toUTCString()}`);
  }
  if (cookie.maxAge?.value !== undefined && cookie.maxAge.value !== null) parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value) parts.push('Secure');
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  const sameSite = sameSiteNames[String(cookie.sameSite)];
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

function flattenHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * The whole body, or undefined as soon as it is known to be over the limit: from
 * Content-Length before reading, or when the limit is passed. The rest is left
 * unread (the stream is paused, not destroyed, so the 413 can still be written).
 */
function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length <= maxBodyBytes) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      request.off('end', onEnd);
      request.pause();
      resolve(undefined);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', reject);
  });
}

function answer(response: ServerResponse, status: number, text = '', contentType = 'text/plain; charset=utf-8'): void {
  const body = Buffer.from(text);
  if (body.length > 0) response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', body.length);
  response.writeHead(status);
  response.end(body);
}
