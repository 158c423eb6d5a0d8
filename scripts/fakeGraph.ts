import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeDirectory, type FakeGraphGroup, type FakeGraphSeed, type FakeGraphUser } from './fakeGraphDirectory';
import { readBody, uniformHash } from './fakeHttp';

export type { FakeGraphSeed, FakeGraphUser, FakeGraphGroup, FakeCatalogApp, FakeInstallation } from './fakeGraphDirectory';
export { numberedUsers } from './fakeGraphDirectory';

/**
 * A fake Microsoft Graph (v1.0, the part the directory uses) on 127.0.0.1, for tests, the bench and
 * local runs; like scripts/fakeConnector.ts, independent of it.
 *
 * It serves:
 *   GET  /v1.0/users/{id | userPrincipalName}                     404 Request_ResourceNotFound for unknown
 *   GET  /v1.0/users?$filter=<p> eq '<v>' [or <p> eq '<v>' ...]    p: id, userPrincipalName, mail (case-insensitive)
 *   GET  /v1.0/groups/{id}/transitiveMembers[/microsoft.graph.user]?$top=&$skiptoken=
 *                                                                  pages with @odata.nextLink; $top 1..999 (default 100), else 400;
 *                                                                  404 for an unknown group, 400 "Invalid object identifier" for an id of other characters
 *   POST /v1.0/users/{id}/teamwork/installedApps                    {"teamsApp@odata.bind": ".../appCatalogs/teamsApps/{id}"}: 201, 409 when installed
 *   GET  /v1.0/users/{id}/teamwork/installedApps?$expand=teamsApp&$filter=teamsApp/id eq '{id}'
 *   GET  /v1.0/users/{id}/teamwork/installedApps/{installationId}/chat
 *   GET  /v1.0/appCatalogs/teamsApps?$filter=externalId eq '{manifest id}'
 *   POST /v1.0/$batch                                               1..20 requests (400 above), answers by id, in reverse order
 *
 * Each operation (a request, or one request inside a $batch) is judged in this order:
 *   1. route, else 404 (400 for a malformed query);
 *   2. a refused permission (`refusePermissions`): 403 Authorization_RequestDenied;
 *   3. an outage (`outage`): that status for everything;
 *   4. throttling: the tenant's sliding one-second window (`perTenantPerSecond`), then a share of the
 *      operations drawn from a hash of (seed, method and URL, attempt) (`share`); 429 with Retry-After;
 *   5. the answer.
 * The tenant is the `tid` claim of the bearer token, or `default` when the request carries none.
 *
 * Test hooks: `counters`, and the same over HTTP for a fake in a child process, under /_fake/:
 *   GET counters, POST seed (a FakeGraphSeed), POST throttle (ThrottleOptions), POST refuse ({permissions}),
 *   POST outage ({status} or {}), POST reset (counters only).
 */

export type FakeGraphPermission = 'User.Read.All' | 'GroupMember.Read.All' | 'TeamsAppInstallation.ReadWriteSelfForUser.All' | 'AppCatalog.Read.All';

export interface FakeGraphThrottle {
  /** Share (0..1) of operations answered 429, drawn per (seed, method and URL, attempt): retries get fresh draws. */
  readonly share?: number;
  /** Operations admitted per tenant in any one-second window; beyond, 429 with the seconds until a slot frees. */
  readonly perTenantPerSecond?: number;
  /** Retry-After of the share's 429s, in seconds (fractions are a test convenience; Graph sends integers). Default 1. */
  readonly retryAfterSeconds?: number;
  readonly seed?: number;
}

export interface FakeGraphOptions {
  readonly seed?: FakeGraphSeed;
  readonly throttle?: FakeGraphThrottle;
  readonly refusePermissions?: readonly FakeGraphPermission[];
  /** Waited before each HTTP answer. */
  readonly latencyMs?: number;
  /** The bot's id in the chat ids of installations (`19:<user>_<bot>@unq.gbl.spaces`). Default `bot`. */
  readonly botId?: string;
  /** Listings of a person's apps that leave out an installation just made, as Graph sometimes does for a while. Default 0. */
  readonly installationLag?: number;
}

export interface FakeGraphCounters {
  /** HTTP requests to Graph's routes ($batch counts once; /_fake/ not counted). */
  requests: number;
  batches: number;
  /** Operations judged: single requests, and each request inside a $batch. */
  operations: number;
  /** Installations created (201). */
  installs: number;
  /** Installations asked for again (409). */
  installConflicts: number;
  /** 429s answered. */
  throttled: number;
  /** Operations that came back before the Retry-After their last 429 asked for had passed. */
  earlyRetries: number;
  /** 403s for a refused permission. */
  refused: number;
  byStatus: Record<string, number>;
  /** HTTP requests by their Authorization header (`none` without one): which tokens reached Graph. */
  byAuthorization: Record<string, number>;
}

export interface FakeGraph {
  /** The base URL, for MICROSOFT_GRAPH_URL: `http://127.0.0.1:PORT` (no version). */
  readonly url: string;
  readonly counters: Readonly<FakeGraphCounters>;
  readonly directory: FakeDirectory;
  seed(seed: FakeGraphSeed): void;
  setThrottle(throttle: FakeGraphThrottle | undefined): void;
  refusePermissions(permissions: readonly FakeGraphPermission[]): void;
  /** Every operation answers `status` (an outage), until called with undefined. */
  setOutage(status: number | undefined): void;
  resetCounters(): void;
  stop(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Operation {
  readonly tenant: string;
  readonly method: string;
  /** Path and query after /v1.0. */
  readonly url: string;
  readonly body: unknown;
}

const maxBatch = 20;
const maxPageSize = 999;
const defaultPageSize = 100;
/** A retry this much earlier than its Retry-After still counts as on time (timers and clocks differ by a millisecond or two). */
const earlyToleranceMs = 5;

export async function startFakeGraph(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  const graph = new FakeGraphServer(options);
  await graph.listen();
  return graph;
}

function newCounters(): FakeGraphCounters {
  return { requests: 0, batches: 0, operations: 0, installs: 0, installConflicts: 0, throttled: 0, earlyRetries: 0, refused: 0, byStatus: {}, byAuthorization: {} };
}

class FakeGraphServer implements FakeGraph {
  counters = newCounters();
  readonly directory: FakeDirectory;
  private readonly server: Server;
  private throttle: FakeGraphThrottle | undefined;
  private refused: ReadonlySet<string>;
  private outage: number | undefined;
  private attempts = new Map<string, number>();
  private retryNotBefore = new Map<string, number>();
  private tenantWindows = new Map<string, number[]>();
  private port = 0;

  constructor(private readonly options: FakeGraphOptions) {
    this.directory = new FakeDirectory(options.botId ?? 'bot');
    this.directory.installationLag = options.installationLag ?? 0;
    if (options.seed !== undefined) this.directory.load(options.seed);
    this.throttle = options.throttle;
    this.refused = new Set(options.refusePermissions ?? []);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server.listen({ port: 0, host: '127.0.0.1' });
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake Graph: could not read its port');
    this.port = address.port;
  }

  seed(seed: FakeGraphSeed): void {
    this.directory.load(seed);
  }

  setThrottle(throttle: FakeGraphThrottle | undefined): void {
    this.throttle = throttle;
  }

  refusePermissions(permissions: readonly FakeGraphPermission[]): void {
    this.refused = new Set(permissions);
  }

  setOutage(status: number | undefined): void {
    this.outage = status;
  }

  resetCounters(): void {
    this.counters = newCounters();
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const text = await readBody(req);
      const path = req.url ?? '/';
      const answer = path.startsWith('/_fake/') ? this.admin(req.method ?? 'GET', path, text) : this.graph(req, path, text);
      if ((this.options.latencyMs ?? 0) > 0) await delay(this.options.latencyMs);
      send(res, answer);
    } catch (error) {
      if (!res.headersSent) send(res, graphError(500, 'InternalServerError', `fake Graph failed: ${String(error)}`));
    }
  }

  private graph(req: IncomingMessage, path: string, text: string): Answer {
    this.counters.requests += 1;
    const authorization = req.headers.authorization ?? 'none';
    this.counters.byAuthorization[authorization] = (this.counters.byAuthorization[authorization] ?? 0) + 1;
    const tenant = tenantOf(req.headers.authorization);
    if (!path.startsWith('/v1.0/')) return this.count(graphError(404, 'NotFound', `No such API version or route: ${path}`));
    const url = path.slice('/v1.0'.length);
    const body = parseJson(text);
    if (req.method === 'POST' && url.split('?')[0] === '/$batch') return this.count(this.batch(tenant, body));
    return this.count(this.operate({ tenant, method: req.method ?? 'GET', url, body }));
  }

  private batch(tenant: string, body: unknown): Answer {
    this.counters.batches += 1;
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) return graphError(400, 'BadRequest', 'A $batch needs a non-empty "requests" array');
    if (requests.length > maxBatch) return graphError(400, 'BadRequest', `A $batch takes at most ${maxBatch} requests, got ${requests.length}`);
    const ids = new Set<string>();
    const responses: unknown[] = [];
    for (const request of requests as Record<string, unknown>[]) {
      const { id, method, url } = request ?? {};
      if (typeof id !== 'string' || typeof method !== 'string' || typeof url !== 'string' || ids.has(id)) {
        return graphError(400, 'BadRequest', 'Each $batch request needs a unique string id, a method and a relative url');
      }
      ids.add(id);
      const relative = url.startsWith('/') ? url : `/${url}`;
      const answer = /^https?:/i.test(url)
        ? graphError(400, 'BadRequest', 'A $batch request url must be relative')
        : this.count(this.operate({ tenant, method: method.toUpperCase(), url: relative, body: request['body'] }));
      responses.push({ id, status: answer.status, headers: { 'Content-Type': 'application/json', ...answer.headers }, ...(answer.body !== undefined ? { body: answer.body } : {}) });
    }
    // Graph answers a $batch's requests in any order; the client must match them by id.
    return { status: 200, body: { responses: responses.reverse() } };
  }

  private operate(operation: Operation): Answer {
    this.counters.operations += 1;
    const route = routeOf(operation);
    if ('status' in route) return route;
    if (this.refused.has(route.permission)) {
      this.counters.refused += 1;
      return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    if (this.outage !== undefined) return graphError(this.outage, 'ServiceUnavailable', 'The service is temporarily unavailable (injected outage).');
    const throttled = this.throttled(operation);
    if (throttled !== undefined) return throttled;
    return route.answer(this.directory, operation, this.url);
  }

  private throttled(operation: Operation): Answer | undefined {
    const key = `${operation.tenant} ${operation.method} ${operation.url}`;
    const now = performance.now();
    const notBefore = this.retryNotBefore.get(key);
    if (notBefore !== undefined && now < notBefore - earlyToleranceMs) this.counters.earlyRetries += 1;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const throttle = this.throttle;
    if (throttle === undefined) return undefined;
    const limit = throttle.perTenantPerSecond;
    if (limit !== undefined) {
      const window = this.tenantWindows.get(operation.tenant) ?? [];
      while (window.length > 0 && (window[0] as number) <= now - 1_000) window.shift();
      if (window.length >= limit) {
        const seconds = Math.max(1, Math.ceil(((window[0] as number) + 1_000 - now) / 1_000));
        return this.tooMany(key, now, seconds, `Too many requests for tenant ${operation.tenant}`);
      }
      window.push(now);
      this.tenantWindows.set(operation.tenant, window);
    }
    const share = throttle.share ?? 0;
    if (share > 0 && uniformHash(`${throttle.seed ?? 1}|${key}|${attempt}`) < share) {
      return this.tooMany(key, now, throttle.retryAfterSeconds ?? 1, 'Throttled (injected share)');
    }
    return undefined;
  }

  private tooMany(key: string, now: number, seconds: number, message: string): Answer {
    this.retryNotBefore.set(key, now + seconds * 1_000);
    return { ...graphError(429, 'TooManyRequests', message), headers: { 'Retry-After': String(seconds) } };
  }

  private count(answer: Answer): Answer {
    this.counters.byStatus[answer.status] = (this.counters.byStatus[answer.status] ?? 0) + 1;
    if (answer.status === 429) this.counters.throttled += 1;
    if (answer.status === 201) this.counters.installs += 1;
    if (answer.status === 409) this.counters.installConflicts += 1;
    return answer;
  }

  private admin(method: string, path: string, text: string): Answer {
    const body = parseJson(text) as Record<string, unknown> | undefined;
    const route = `${method} ${path.split('?')[0]}`;
    switch (route) {
      case 'GET /_fake/counters':
        return { status: 200, body: this.counters };
      case 'POST /_fake/seed':
        this.seed((body ?? {}) as FakeGraphSeed);
        return { status: 204 };
      case 'POST /_fake/throttle':
        this.setThrottle(body === undefined || Object.keys(body).length === 0 ? undefined : (body as FakeGraphThrottle));
        return { status: 204 };
      case 'POST /_fake/refuse':
        this.refusePermissions((body?.['permissions'] ?? []) as FakeGraphPermission[]);
        return { status: 204 };
      case 'POST /_fake/outage':
        this.setOutage(typeof body?.['status'] === 'number' ? body['status'] : undefined);
        return { status: 204 };
      case 'POST /_fake/reset':
        this.resetCounters();
        return { status: 204 };
      default:
        return graphError(404, 'NotFound', `No fake control route ${route}`);
    }
  }
}

interface Route {
  readonly permission: FakeGraphPermission;
  readonly answer: (directory: FakeDirectory, operation: Operation, baseUrl: string) => Answer;
}

/** Which route an operation takes, or the 400/404 that ends it there. */
function routeOf(operation: Operation): Route | Answer {
  const [rawPath = '', rawQuery = ''] = operation.url.split('?', 2);
  const query = new URLSearchParams(rawQuery);
  let segments: string[];
  try {
    segments = rawPath.split('/').filter((segment) => segment !== '').map((segment) => decodeURIComponent(segment));
  } catch {
    return graphError(400, 'BadRequest', 'Malformed percent-encoding in the path');
  }
  const { method } = operation;
  const [first, second, third, fourth, fifth, sixth] = segments;

  if (first === 'users' && method === 'GET' && segments.length === 1) return { permission: 'User.Read.All', answer: (d) => listUsers(d, query) };
  if (first === 'users' && method === 'GET' && segments.length === 2) return { permission: 'User.Read.All', answer: (d) => getUser(d, second as string, query) };
  if (first === 'users' && third === 'teamwork' && fourth === 'installedApps') {
    const userId = second as string;
    const permission = 'TeamsAppInstallation.ReadWriteSelfForUser.All' as const;
    if (segments.length === 4 && method === 'POST') return { permission, answer: (d, op, base) => install(d, userId, op.body, base) };
    if (segments.length === 4 && method === 'GET') return { permission, answer: (d) => listInstalledApps(d, userId, query) };
    if (segments.length === 6 && sixth === 'chat' && method === 'GET') return { permission, answer: (d) => chatOf(d, userId, fifth as string) };
  }
  if (first === 'groups' && third === 'transitiveMembers' && method === 'GET' && (segments.length === 3 || (segments.length === 4 && fourth === 'microsoft.graph.user'))) {
    const usersOnly = segments.length === 4;
    return { permission: 'GroupMember.Read.All', answer: (d, op, base) => transitiveMembers(d, second as string, usersOnly, query, `${base}/v1.0${rawPath}`) };
  }
  if (first === 'appCatalogs' && second === 'teamsApps' && segments.length === 2 && method === 'GET') {
    return { permission: 'AppCatalog.Read.All', answer: (d) => listCatalog(d, query) };
  }
  return graphError(404, 'NotFound', `No route for ${method} ${rawPath}`);
}

function userJson(user: FakeGraphUser, select: string | null): Record<string, unknown> {
  const full: Record<string, unknown> = {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    mail: user.mail ?? null,
    userType: user.userType ?? 'Member',
    displayName: user.displayName ?? null,
  };
  if (select === null) return full;
  return Object.fromEntries(select.split(',').map((field) => field.trim()).filter((field) => field in full).map((field) => [field, full[field]]));
}

function getUser(directory: FakeDirectory, key: string, query: URLSearchParams): Answer {
  const user = directory.userByKey(key);
  if (user === undefined) return notFound(key);
  return { status: 200, body: userJson(user, query.get('$select')) };
}

function listUsers(directory: FakeDirectory, query: URLSearchParams): Answer {
  const filter = query.get('$filter');
  if (filter === null) return graphError(400, 'Request_UnsupportedQuery', 'This fake lists users only with a $filter of eq terms joined by or');
  const terms = eqTerms(filter, ['id', 'userPrincipalName', 'mail']);
  if (terms === undefined) return graphError(400, 'Request_UnsupportedQuery', `Unsupported filter: ${filter}`);
  const found = new Map<string, FakeGraphUser>();
  for (const { property, value } of terms) {
    for (const user of directory.usersWhere(property as 'id' | 'userPrincipalName' | 'mail', value)) found.set(user.id, user);
  }
  return { status: 200, body: { value: [...found.values()].map((user) => userJson(user, query.get('$select'))) } };
}

function transitiveMembers(directory: FakeDirectory, groupId: string, usersOnly: boolean, query: URLSearchParams, selfUrl: string): Answer {
  if (!/^[0-9A-Za-z][0-9A-Za-z-]*$/.test(groupId)) return graphError(400, 'Request_BadRequest', `Invalid object identifier '${groupId}'.`);
  const users = directory.transitiveUsers(groupId);
  if (users === undefined) return notFound(groupId);
  const topText = query.get('$top');
  const top = topText === null ? defaultPageSize : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > maxPageSize) {
    return graphError(400, 'Request_BadRequest', `Invalid page size specified: '${topText}'. Must be between 1 and ${maxPageSize} inclusive.`);
  }
  const members: readonly (FakeGraphUser | FakeGraphGroup)[] = usersOnly ? users : [...users, ...directory.nestedGroups(groupId)];
  const offset = readSkipToken(query.get('$skiptoken'));
  if (offset === undefined) return graphError(400, 'Request_BadRequest', 'Invalid $skiptoken');
  const page = members.slice(offset, offset + top).map((member) =>
    'userPrincipalName' in member
      ? { '@odata.type': '#microsoft.graph.user', ...userJson(member, query.get('$select')) }
      : { '@odata.type': '#microsoft.graph.group', id: member.id, displayName: member.displayName ?? null },
  );
  const next = new URLSearchParams(query);
  next.set('$skiptoken', Buffer.from(JSON.stringify({ offset: offset + top })).toString('base64url'));
  return {
    status: 200,
    body: {
      ...(query.get('$count') === 'true' ? { '@odata.count': members.length } : {}),
      value: page,
      ...(offset + top < members.length ? { '@odata.nextLink': `${selfUrl}?${next.toString()}` } : {}),
    },
  };
}

function install(directory: FakeDirectory, userId: string, body: unknown, baseUrl: string): Answer {
  const bind = (body as Record<string, unknown> | undefined)?.['teamsApp@odata.bind'];
  const prefix = `${baseUrl}/v1.0/appCatalogs/teamsApps/`;
  if (typeof bind !== 'string' || !bind.startsWith(prefix)) {
    return graphError(400, 'BadRequest', `teamsApp@odata.bind must be ${prefix}{id}`);
  }
  const outcome = directory.install(userId, decodeURIComponent(bind.slice(prefix.length)));
  // Teams' own answers: the person named, or a bare "Not Found" for an app the catalog lacks.
  if (outcome === 'noUser') return graphError(404, 'NotFound', `User Id '${userId}' not found.`);
  if (outcome === 'noApp') return graphError(404, 'NotFound', 'Not Found');
  if (outcome === 'exists') return graphError(409, 'Conflict', 'App is already installed for this user');
  return { status: 201 };
}

function listInstalledApps(directory: FakeDirectory, userId: string, query: URLSearchParams): Answer {
  const installations = directory.listInstallations(userId);
  if (installations === undefined) return graphError(404, 'NotFound', `User Id '${userId}' not found.`);
  const filter = query.get('$filter');
  const terms = filter === null ? [] : eqTerms(filter, ['teamsApp/id']);
  if (terms === undefined) return graphError(400, 'BadRequest', `Unsupported filter: ${filter}`);
  const wanted = new Set(terms.map((term) => term.value));
  const expand = query.get('$expand') === 'teamsApp';
  const value = installations
    .filter((installation) => wanted.size === 0 || wanted.has(installation.catalogAppId))
    .map((installation) => {
      const app = directory.catalogApp(installation.catalogAppId);
      return { id: installation.id, ...(expand ? { teamsApp: { id: installation.catalogAppId, externalId: app?.externalId ?? null, displayName: app?.displayName ?? null } } : {}) };
    });
  return { status: 200, body: { value } };
}

function chatOf(directory: FakeDirectory, userId: string, installationId: string): Answer {
  const installation = directory.installationsOf(userId)?.find((candidate) => candidate.id === installationId);
  if (installation === undefined) return notFound(installationId);
  return { status: 200, body: { id: installation.chatId, chatType: 'oneOnOne' } };
}

function listCatalog(directory: FakeDirectory, query: URLSearchParams): Answer {
  const filter = query.get('$filter');
  const terms = filter === null ? [] : eqTerms(filter, ['externalId', 'id']);
  if (terms === undefined) return graphError(400, 'BadRequest', `Unsupported filter: ${filter}`);
  const value = directory
    .catalogApps()
    .filter((app) => terms.length === 0 || terms.some((term) => (term.property === 'id' ? app.id : app.externalId) === term.value))
    .map((app) => ({ id: app.id, externalId: app.externalId, displayName: app.displayName ?? null, distributionMethod: app.distributionMethod ?? 'organization' }));
  return { status: 200, body: { value } };
}

/** `a eq 'x' or b eq 'y'`: the terms, when the whole filter is of that form over the allowed properties. */
function eqTerms(filter: string, allowed: readonly string[]): { property: string; value: string }[] | undefined {
  const terms: { property: string; value: string }[] = [];
  const skeleton = filter.replace(/([A-Za-z/]+)\s+eq\s+'((?:[^']|'')*)'/g, (_, property: string, value: string) => {
    terms.push({ property, value: value.replace(/''/g, "'") });
    return 'T';
  });
  if (!/^T(\s+or\s+T)*$/.test(skeleton.trim())) return undefined;
  return terms.every((term) => allowed.includes(term.property)) ? terms : undefined;
}

function readSkipToken(token: string | null): number | undefined {
  if (token === null) return 0;
  try {
    const offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown }).offset;
    return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : undefined;
  } catch {
    return undefined;
  }
}

function notFound(key: string): Answer {
  return graphError(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
}

function graphError(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

/** The tenant of a bearer JWT (its `tid` claim), or `default`: the fake does not check signatures. */
function tenantOf(authorization: string | undefined): string {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (payload === undefined) return 'default';
  try {
    const tid = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown }).tid;
    return typeof tid === 'string' ? tid : 'default';
  } catch {
    return 'default';
  }
}

function send(res: ServerResponse, answer: Answer): void {
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  if (text !== '') res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * As a process: `node dist/scripts/fakeGraph.js ['<FakeGraphOptions as JSON>']` prints
 * `FAKE_GRAPH_URL=<url>` (and sends `{ graphUrl }` to a parent over IPC), then serves until
 * SIGTERM/SIGINT. Load people and groups through POST /_fake/seed.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as FakeGraphOptions;
  const graph = await startFakeGraph(options);
  process.stdout.write(`FAKE_GRAPH_URL=${graph.url}\n`);
  process.send?.({ graphUrl: graph.url });
  const stop = (): void => void graph.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) void main();
