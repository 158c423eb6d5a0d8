import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once, setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeTeamsState, teamsRouteOf, type FakeTeams, type TeamsThrottle } from './fakeConnectorTeams';
import { ConversationMessages, type ActivityChange, type ActivityChangeCounts, type FakeMessage } from './fakeConnectorMessages';
import { ActivityChangeLog } from './fakeConnectorChangeLog';
import { readBody, uniformHash } from './fakeHttp';

/**
 * A fake Bot Connector (v3 REST API, the part a proactive sender uses), with
 * Teams-like throttling and fault injection, for tests and the benchmark.
 *
 * Teams' rosters, channel lists and personal chat creation are answered by
 * scripts/fakeConnectorTeams.ts (seeded through `teams`), after routing and authorization.
 *
 * Order in which a request is judged (the first that applies answers it):
 *   1. route: `POST /v3/conversations/{id}/activities[/{activityId}]`, or `PUT` / `DELETE
 *      /v3/conversations/{id}/activities/{activityId}` (update, delete), or a Teams route, else 404 `NotFound`
 *   2. `requireAuthorization`: a different Authorization header gets 401
 *   3. size: JSON text longer than `maxBodyBytes` / 2 characters gets 413 `MessageSizeTooBig`
 *   4. body: not a JSON object gets 400 `BadArgument`
 *   -- from here on the request counts as an attempt for its conversation --
 *   5. throttling (see `ThrottleOptions`): 429 `Throttled` with Retry-After
 *   6. faults: `conversationFaults`, then `faults(...)`, then `randomFaults`
 *   7. delivery: recorded in `received` and kept as the conversation's message under a fresh id,
 *      answered 201 `{"id": "..."}`; an update replaces the message, a delete removes it (200), and
 *      either of an id the conversation does not hold gets 404 `NotFound`
 *
 * Updates and deletes count against the same throttling windows as sends; a delete's tenant is
 * the one the conversation was last sent to (it has no body).
 *
 * Timing, as the real service sees a request: the body is read, then the
 * request travels for a random `jitterMs` (network transit, which reorders
 * requests sent close together), then it *arrives*: steps 1-7 judge it and the
 * throttling windows count it at that moment, as the service counts requests
 * when they reach it. Then `latencyMs` is waited before the answer, errors
 * included. So a client sees a round trip of latencyMs + [0, jitterMs).
 */

export interface ThrottleOptions {
  /**
   * Sliding one-second windows, one per tenant and one per conversation.
   * A request arriving at time `now` (its body read, and its `jitterMs` transit over)
   * is throttled when the window already holds `limit` admitted requests whose
   * arrival time t satisfies `now - 1000 ms < t <= now`. Only requests that
   * pass the throttle are put in the windows: throttled requests (429) do not
   * count, but admitted requests count even when a fault answers them after.
   * So, at most `limit` requests are admitted in any half-open 1000 ms interval.
   */
  readonly perTenantPerSecond?: number;
  readonly perConversationPerSecond?: number;
  /** Retry-After sent with a throttling 429, in seconds. Default 1. */
  readonly retryAfterSeconds?: number;
}

export type Fault =
  | {
      readonly status: number;
      /** Bot Framework error code; defaults by status (404 ConversationNotFound, 503 ServiceUnavailable, ...). */
      readonly code?: string;
      readonly message?: string;
      /** Sent as Retry-After (seconds). The real service sends integers; a fraction is a test convenience. */
      readonly retryAfterSeconds?: number;
    }
  /** Destroy the socket without answering: the client sees a network error (ECONNRESET / socket hang up). */
  | { readonly dropConnection: true };

export interface FaultRequest {
  /** `POST` (a send), `PUT` (an update) or `DELETE`. */
  readonly method: string;
  readonly conversationId: string;
  readonly tenantId: string;
  /** 1-based; see `ReceivedActivity.attempt`. */
  readonly attempt: number;
}

export interface RandomFaultOptions {
  /** Probability (0..1) of a 429 Throttled with Retry-After. */
  readonly rate429?: number;
  /** Probability (0..1) of a 503 ServiceUnavailable without Retry-After. */
  readonly rate503?: number;
  /**
   * The draw is a hash of (seed, conversationId, attempt), not a shared stream,
   * so the same requests fail whatever the concurrency and arrival order. Default 1.
   */
  readonly seed?: number;
  /** Retry-After of the random 429s, in seconds. Default 1. */
  readonly retryAfterSeconds?: number;
}

export interface FakeConnectorOptions {
  readonly latencyMs?: number;
  /**
   * Network transit before the request arrives, uniform in [0, jitterMs): on top of
   * `latencyMs`, and it shuffles the arrival order of requests sent less than this apart.
   */
  readonly jitterMs?: number;
  /** Uniform in [0, 1), for the jitter; tests pass a scripted one. Default Math.random. */
  readonly random?: () => number;
  readonly throttle?: ThrottleOptions;
  readonly faults?: (request: FaultRequest) => Fault | undefined;
  /** Fault for every request to a conversation, keyed by the decoded conversation id. */
  readonly conversationFaults?: Readonly<Record<string, Fault>>;
  readonly randomFaults?: RandomFaultOptions;
  /** When set, a request whose Authorization header is not exactly this gets 401. */
  readonly requireAuthorization?: string;
  /** Limit on the JSON text counted as UTF-16 (2 bytes per JS character). Default 100 KiB. */
  readonly maxBodyBytes?: number;
  /** Keep the full activity JSON of every delivery (costly for big runs). Default false. */
  readonly recordActivities?: boolean;
  /** Milliseconds clock for the throttling windows; tests may pass a manual one. Default performance.now. */
  readonly clock?: () => number;
}

export interface ReceivedActivity {
  readonly conversationId: string;
  readonly tenantId: string;
  /** The id the fake answered with. */
  readonly id: string;
  /** Set for the reply route (`.../activities/{activityId}`). */
  readonly replyToId?: string;
  /**
   * 1-based count of requests for this conversation that got past routing,
   * authorization, size and JSON checks (throttled and faulted ones included).
   */
  readonly attempt: number;
  /** `Date.now()` when it was accepted. */
  readonly receivedAt: number;
  readonly type?: string;
  readonly text?: string;
  readonly attachmentCount: number;
  /** Only with `recordActivities: true`. */
  readonly activity?: Readonly<Record<string, unknown>>;
}

export interface FakeConnector {
  /** `http://127.0.0.1:PORT/`, what a ConversationReference's serviceUrl should be. */
  readonly serviceUrl: string;
  readonly received: readonly ReceivedActivity[];
  /** Every request that reached the server, dropped ones included. */
  readonly requests: number;
  readonly accepted: number;
  /** 429s sent, by throttling and by injected faults. */
  readonly throttled: number;
  /** Of `throttled`: 429s because a throttling window was full (the client's own pace). */
  readonly throttledByRate: number;
  /** Requests answered by destroying the socket. */
  readonly dropped: number;
  /** Answers sent, by HTTP status. */
  readonly byStatus: ReadonlyMap<number, number>;
  /** Highest number of requests being handled at once. */
  readonly maxInFlight: number;
  /** TCP connections opened by clients (fewer than `requests` when they keep connections alive). */
  readonly connections: number;
  /** Highest number of connections open at once. */
  readonly maxOpenConnections: number;
  deliveredCount(conversationId: string): number;
  /** The messages a conversation shows now (sent, minus deleted, with updates applied), oldest first. */
  messages(conversationId: string): readonly FakeMessage[];
  /** Messages shown in every conversation together. */
  messageCount(): number;
  /** Accepted updates of one conversation's messages. */
  updatesOf(conversationId: string): number;
  /** Accepted updates and deletes, and those of unknown ids. */
  readonly activityChanges: ActivityChangeCounts;
  /** When each tenant's accepted updates and deletes began and ended, and conversations changed twice. */
  readonly changeLog: ActivityChangeLog;
  /** Conversations delivered more than once, with their counts. */
  duplicates(): Map<string, number>;
  /** Teams: seed teams and people, read the create and roster counters. */
  readonly teams: FakeTeams;
  /** Forgets records, counters, attempts and throttling windows (seeded teams, people and their chats stay). */
  reset(): void;
  /** Closes the server and every connection, open keep-alive ones included. */
  stop(): Promise<void>;
}

const defaultMaxBodyBytes = 100 * 1024;
const windowMs = 1000;

const defaultCodes: Readonly<Record<number, string>> = {
  400: 'BadArgument',
  403: 'Forbidden',
  404: 'ConversationNotFound',
  413: 'MessageSizeTooBig',
  429: 'Throttled',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** What the Bot Connector answers to a missing or invalid token (not the usual error shape). */
const unauthorizedBody = { message: 'Authorization has been denied for this request.' };

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfterSeconds?: number;
  /** A throttling window was full (not an injected fault). */
  readonly byRate?: true;
}

type Outcome = Answer | { readonly drop: true };

interface Route {
  readonly method: 'POST' | 'PUT' | 'DELETE';
  readonly conversationId: string;
  /** The reply route's activity id (POST), or the activity updated or deleted. */
  readonly replyToId?: string;
}

export async function startFakeConnector(options: FakeConnectorOptions = {}): Promise<FakeConnector> {
  const connector = new FakeConnectorServer(options);
  await connector.listen();
  return connector;
}

class FakeConnectorServer implements FakeConnector {
  received: ReceivedActivity[] = [];
  requests = 0;
  accepted = 0;
  throttled = 0;
  throttledByRate = 0;
  dropped = 0;
  maxInFlight = 0;
  connections = 0;
  maxOpenConnections = 0;
  readonly byStatus = new Map<number, number>();
  readonly teams = new FakeTeamsState();
  readonly changeLog = new ActivityChangeLog();

  private readonly server: Server;
  private readonly clock: () => number;
  private readonly stopping = new AbortController();
  private inFlight = 0;
  private openConnections = 0;
  private nextActivityId = 1;
  private attempts = new Map<string, number>();
  private delivered = new Map<string, number>();
  private tenantWindows = new SlidingWindows();
  private conversationWindows = new SlidingWindows();
  private readonly shown = new ConversationMessages();
  private port = 0;

  constructor(private readonly options: FakeConnectorOptions) {
    this.clock = options.clock ?? (() => performance.now());
    // Every request in transit or waiting out its latency listens on this one signal.
    setMaxListeners(0, this.stopping.signal);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.connections += 1;
      this.openConnections += 1;
      this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openConnections);
      socket.once('close', () => (this.openConnections -= 1));
    });
    // Clients (undici, node's agent) reuse sockets; keep them open well past their own idle timeouts.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.requestTimeout = 0;
  }

  get serviceUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async listen(): Promise<void> {
    this.server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 });
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake connector: could not read its port');
    this.port = address.port;
  }

  deliveredCount(conversationId: string): number {
    return this.delivered.get(conversationId) ?? 0;
  }

  messages(conversationId: string): readonly FakeMessage[] {
    return this.shown.of(conversationId);
  }

  messageCount(): number {
    return this.shown.total();
  }

  updatesOf(conversationId: string): number {
    return this.shown.updatesOf(conversationId);
  }

  get activityChanges(): ActivityChangeCounts {
    return this.shown.counts;
  }

  duplicates(): Map<string, number> {
    return new Map([...this.delivered].filter(([, count]) => count > 1));
  }

  reset(): void {
    this.received = [];
    this.requests = 0;
    this.accepted = 0;
    this.throttled = 0;
    this.throttledByRate = 0;
    this.dropped = 0;
    this.maxInFlight = this.inFlight;
    this.connections = 0;
    this.maxOpenConnections = this.openConnections;
    this.byStatus.clear();
    this.attempts = new Map();
    this.delivered = new Map();
    this.tenantWindows = new SlidingWindows();
    this.conversationWindows = new SlidingWindows();
    this.teams.resetCounters();
    this.shown.clear();
    this.changeLog.clear();
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.stopping.abort();
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const body = await readBody(req);
      await this.wait(this.random() * (this.options.jitterMs ?? 0));
      const outcome = this.judgeSafely(req, body);
      await this.wait(this.options.latencyMs ?? 0);
      if (res.destroyed) return;
      if ('drop' in outcome) {
        this.dropped += 1;
        req.socket.destroy();
        return;
      }
      this.send(res, outcome);
    } catch {
      // The client went away, or stop() aborted the transit or latency wait: nobody to answer.
      if (!res.destroyed) res.destroy();
    } finally {
      this.inFlight -= 1;
    }
  }

  /** A throwing `faults` callback is a bug in the test: answer 500 and say so rather than hang the client. */
  private judgeSafely(req: IncomingMessage, body: string): Outcome {
    try {
      return this.judge(req, body);
    } catch (error) {
      return errorAnswer(500, 'InternalServerError', `fake connector failed: ${String(error)}`);
    }
  }

  private judge(req: IncomingMessage, body: string): Outcome {
    const teamsRoute = teamsRouteOf(req.method, req.url ?? '');
    const route = teamsRoute === undefined ? parseRoute(req.method ?? '', req.url ?? '') : undefined;
    if (route === undefined && teamsRoute === undefined) return errorAnswer(404, 'NotFound', `No route for ${req.method} ${req.url}`);
    const required = this.options.requireAuthorization;
    if (required !== undefined && req.headers.authorization !== required) return { status: 401, body: unauthorizedBody };
    if (teamsRoute !== undefined) return this.teams.answer(teamsRoute, body, this.teamsThrottle());
    if (route === undefined) return errorAnswer(404, 'NotFound', `No route for ${req.method} ${req.url}`);
    const maxBodyBytes = this.options.maxBodyBytes ?? defaultMaxBodyBytes;
    if (body.length * 2 > maxBodyBytes) {
      return errorAnswer(413, 'MessageSizeTooBig', `Activity is ${body.length * 2} bytes; the limit is ${maxBodyBytes}`);
    }
    const activity = route.method === 'DELETE' ? {} : parseActivity(body);
    if (activity === undefined) return errorAnswer(400, 'BadArgument', 'The request body is not a JSON activity object');

    const { conversationId } = route;
    const tenantId = route.method === 'DELETE' ? this.shown.tenantOf(conversationId) : tenantOf(activity);
    const attempt = (this.attempts.get(conversationId) ?? 0) + 1;
    this.attempts.set(conversationId, attempt);

    const throttleAnswer = this.throttle(conversationId, tenantId);
    if (throttleAnswer !== undefined) return throttleAnswer;

    const fault = this.faultFor({ method: route.method, conversationId, tenantId, attempt });
    if (fault !== undefined) return faultOutcome(fault);
    if (route.method !== 'POST') return this.change(route, route.method === 'PUT' ? { kind: 'update', activity } : { kind: 'delete' });

    const id = teamsMessageId(this.nextActivityId++);
    this.record({
      conversationId,
      tenantId,
      id,
      ...(route.replyToId !== undefined ? { replyToId: route.replyToId } : {}),
      attempt,
      receivedAt: Date.now(),
      ...(typeof activity['type'] === 'string' ? { type: activity['type'] } : {}),
      ...(typeof activity['text'] === 'string' ? { text: activity['text'] } : {}),
      attachmentCount: Array.isArray(activity['attachments']) ? activity['attachments'].length : 0,
      ...(this.options.recordActivities === true ? { activity } : {}),
    });
    this.shown.add(conversationId, tenantId, {
      id,
      ...(typeof activity['text'] === 'string' ? { text: activity['text'] } : {}),
      attachmentCount: Array.isArray(activity['attachments']) ? activity['attachments'].length : 0,
      updates: 0,
      ...(this.options.recordActivities === true ? { activity } : {}),
    });
    return { status: 201, body: { id } };
  }

  /** An update or delete that passed throttling and faults: applied when the conversation holds the id. */
  private change(route: Route, change: ActivityChange): Answer {
    const activityId = route.replyToId ?? '';
    if (!this.shown.has(route.conversationId, activityId)) {
      this.shown.noteUnknown();
      return errorAnswer(404, 'NotFound', `Conversation ${route.conversationId} has no activity ${activityId}`);
    }
    this.shown.apply(route.conversationId, activityId, change, this.options.recordActivities === true);
    this.changeLog.note(change.kind, this.shown.tenantOf(route.conversationId), route.conversationId);
    return { status: 200, body: change.kind === 'update' ? { id: activityId } : {} };
  }

  private throttle(conversationId: string, tenantId: string): Answer | undefined {
    const limits = this.options.throttle;
    if (limits === undefined) return undefined;
    const now = this.clock();
    const overTenant = this.tenantWindows.isFull(tenantId, now, limits.perTenantPerSecond);
    const overConversation = this.conversationWindows.isFull(conversationId, now, limits.perConversationPerSecond);
    if (overTenant || overConversation) {
      const scope = overTenant ? `tenant ${tenantId}` : `conversation ${conversationId}`;
      return {
        ...errorAnswer(429, 'Throttled', `Too many requests for ${scope}`),
        retryAfterSeconds: limits.retryAfterSeconds ?? 1,
        byRate: true,
      };
    }
    if (limits.perTenantPerSecond !== undefined) this.tenantWindows.add(tenantId, now);
    if (limits.perConversationPerSecond !== undefined) this.conversationWindows.add(conversationId, now);
    return undefined;
  }

  /** Teams calls count in the tenant's window with the sends. */
  private teamsThrottle(): TeamsThrottle {
    const limits = this.options.throttle;
    const now = this.clock();
    return {
      enabled: limits !== undefined,
      retryAfterSeconds: limits?.retryAfterSeconds ?? 1,
      now: () => now,
      admitTenant: (tenantId) => {
        if (this.tenantWindows.isFull(tenantId, now, limits?.perTenantPerSecond)) return false;
        if (limits?.perTenantPerSecond !== undefined) this.tenantWindows.add(tenantId, now);
        return true;
      },
    };
  }

  private faultFor(request: FaultRequest): Fault | undefined {
    const fixed = this.options.conversationFaults?.[request.conversationId];
    if (fixed !== undefined) return fixed;
    const computed = this.options.faults?.(request);
    if (computed !== undefined) return computed;
    const random = this.options.randomFaults;
    if (random === undefined) return undefined;
    const draw = uniformHash(`${random.seed ?? 1}|${request.conversationId}|${request.attempt}`);
    const rate429 = random.rate429 ?? 0;
    if (draw < rate429) return { status: 429, code: 'Throttled', retryAfterSeconds: random.retryAfterSeconds ?? 1 };
    if (draw < rate429 + (random.rate503 ?? 0)) return { status: 503, code: 'ServiceUnavailable' };
    return undefined;
  }

  private record(activity: ReceivedActivity): void {
    this.received.push(activity);
    this.accepted += 1;
    this.delivered.set(activity.conversationId, this.deliveredCount(activity.conversationId) + 1);
  }

  private async wait(ms: number): Promise<void> {
    if (ms > 0) await delay(ms, undefined, { signal: this.stopping.signal });
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  private send(res: ServerResponse, answer: Answer): void {
    this.byStatus.set(answer.status, (this.byStatus.get(answer.status) ?? 0) + 1);
    if (answer.status === 429) this.throttled += 1;
    if (answer.byRate === true) this.throttledByRate += 1;
    const text = JSON.stringify(answer.body);
    res.statusCode = answer.status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    if (answer.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(answer.retryAfterSeconds));
    res.end(text);
  }
}

/** Timestamps of admitted requests per key, oldest first; see `ThrottleOptions` for the rule. */
class SlidingWindows {
  private readonly windows = new Map<string, number[]>();
  private lastSweep = 0;

  isFull(key: string, now: number, limit: number | undefined): boolean {
    if (limit === undefined) return false;
    const window = this.windows.get(key);
    if (window === undefined) return limit <= 0;
    while (window.length > 0 && (window[0] ?? now) <= now - windowMs) window.shift();
    return window.length >= limit;
  }

  add(key: string, now: number): void {
    const window = this.windows.get(key);
    if (window === undefined) this.windows.set(key, [now]);
    else window.push(now);
    // A run over 100,000 conversations leaves as many idle windows; drop them now and then.
    if (now - this.lastSweep > 10 * windowMs) {
      this.lastSweep = now;
      for (const [k, w] of this.windows) {
        if ((w[w.length - 1] ?? now) <= now - windowMs) this.windows.delete(k);
      }
    }
  }
}

function parseRoute(method: string, url: string): Route | undefined {
  if (method !== 'POST' && method !== 'PUT' && method !== 'DELETE') return undefined;
  const path = url.split('?')[0] ?? '';
  const segments = path.split('/').filter((segment) => segment !== '');
  const [v3, conversations, encodedId, activities, encodedActivityId, ...rest] = segments;
  if (v3 !== 'v3' || conversations !== 'conversations' || activities !== 'activities' || rest.length > 0) return undefined;
  if (encodedId === undefined) return undefined;
  try {
    const conversationId = decodeURIComponent(encodedId);
    if (encodedActivityId === undefined) return method === 'POST' ? { method, conversationId } : undefined;
    return { method, conversationId, replyToId: decodeURIComponent(encodedActivityId) };
  } catch {
    return undefined; // malformed %-encoding
  }
}

function parseActivity(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function tenantOf(activity: Record<string, unknown>): string {
  const conversation = activity['conversation'];
  if (isObject(conversation) && typeof conversation['tenantId'] === 'string') return conversation['tenantId'];
  const channelData = activity['channelData'];
  const tenant = isObject(channelData) ? channelData['tenant'] : undefined;
  if (isObject(tenant) && typeof tenant['id'] === 'string') return tenant['id'];
  return 'unknown';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorAnswer(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

function faultOutcome(fault: Fault): Outcome {
  if ('dropConnection' in fault) return { drop: true };
  if (fault.status === 401) return { status: 401, body: unauthorizedBody };
  const code = fault.code ?? defaultCodes[fault.status] ?? 'ServiceError';
  const answer = errorAnswer(fault.status, code, fault.message ?? `Injected fault: ${code}`);
  return fault.retryAfterSeconds === undefined ? answer : { ...answer, retryAfterSeconds: fault.retryAfterSeconds };
}

/**
 * The id of the n-th message the fake accepted, shaped as Teams' are: a number (Teams uses the
 * message's milliseconds), growing with each message, so read receipts can be compared as numbers.
 */
function teamsMessageId(n: number): string {
  return String(1_700_000_000_000 + n);
}
