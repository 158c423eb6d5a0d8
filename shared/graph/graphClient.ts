import { realClock, type Clock } from '../clock';
import { GraphBudget } from './graphBudget';
import { GraphAuthenticationError, GraphPermissionError, GraphRequestError, GraphUnavailableError } from './graphErrors';
import { graphErrorOf, isPermissionRefusal, permissionFor } from './graphPermissions';
import type { GraphTokens } from './graphTokens';
import { backoffMs, isRetryable, retryAfterMs } from './graphRetry';

/** A Graph request; `url` is relative to the API version (`/users/x?$select=id`), or an absolute nextLink on the Graph base. */
export interface GraphRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Graph's answer to one request (or to one request of a $batch): status, headers in lower case, JSON body (undefined when empty). */
export interface GraphAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface GraphClientOptions {
  /** MICROSOFT_GRAPH_URL, without the version. */
  readonly baseUrl: string;
  readonly tokens: GraphTokens;
  readonly clock?: Clock;
  /** Requests per second per tenant, each request of a $batch counted (default 100: see docs/reach.md). */
  readonly perSecond?: number;
  /** Attempts per request (or per request of a $batch) answered 429, 502, 503 or 504, or lost to the network. Default 5. */
  readonly maxAttempts?: number;
  /** $batch calls in flight at once per call of `batch`. Default 4. */
  readonly batchConcurrency?: number;
  /** Per HTTP request. Default 30 s. */
  readonly timeoutMs?: number;
  /** Uniform in [0, 1), for the backoff's jitter. */
  readonly random?: () => number;
}

/** What the client has done since it was made: for tests, the bench and logs. */
export interface GraphClientStats {
  /** HTTP requests sent ($batch calls count once). */
  httpRequests: number;
  /** Graph operations sent: a single request counts 1, each request inside a $batch counts 1. */
  operations: number;
  batches: number;
  /** Operations sent again after a 429/5xx answer or a network failure. */
  retries: number;
  /** Answers with 429 (inside a $batch or not). */
  throttled: number;
}

/** Graph takes at most 20 requests in one $batch. */
export const maxBatchSize = 20;

/**
 * Microsoft Graph over HTTP for one app: JSON requests, $batch, the app's own per-tenant budget
 * (GraphBudget: a steady rate, and every Retry-After honoured), bounded retries of 429/502/503/504
 * and of network failures. Whole-call faults are thrown by name: GraphPermissionError (403 for want
 * of a permission, named), GraphAuthenticationError (no token, or 401), GraphUnavailableError (the
 * network, or a $batch envelope that kept failing). Any other answer, retryable ones that ran out of
 * attempts included, is returned for the caller to judge.
 */
export class GraphClient {
  readonly stats: GraphClientStats = { httpRequests: 0, operations: 0, batches: 0, retries: 0, throttled: 0 };
  private readonly versionRoot: string;
  private readonly clock: Clock;
  private readonly budget: GraphBudget;
  private readonly maxAttempts: number;
  private readonly batchConcurrency: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;

  constructor(private readonly options: GraphClientOptions) {
    this.versionRoot = `${options.baseUrl.replace(/\/+$/, '')}/v1.0`;
    this.clock = options.clock ?? realClock;
    this.budget = new GraphBudget(this.clock, options.perSecond ?? 100);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.batchConcurrency = options.batchConcurrency ?? 4;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  /** One request, retried while Graph answers 429/502/503/504 (after its Retry-After) or the network fails. */
  async send(tenantId: string, request: GraphRequest): Promise<GraphAnswer> {
    for (let attempt = 1; ; attempt++) {
      await this.budget.take(tenantId, 1);
      this.stats.operations += 1;
      const answer = await this.exchange(tenantId, request, attempt);
      if (answer !== undefined) {
        this.refuseOnAuthorization(tenantId, request.url, answer);
        if (!isRetryable(answer.status) || attempt >= this.maxAttempts) return answer;
      }
      const wait = this.retryWait(answer === undefined ? [] : [answer], attempt);
      // A 429 holds the tenant back in the budget, which the next attempt waits for; anything else waits here.
      if (answer?.status === 429) this.budget.holdOff(tenantId, wait);
      else await this.clock.sleep(wait);
      this.stats.retries += 1;
    }
  }

  /**
   * Any number of requests, 20 to a $batch, up to `batchConcurrency` $batch calls at once; the
   * answers in the order of the requests. Only the requests answered 429/502/503/504 are sent again,
   * each once its own Retry-After has passed, in a later $batch (with fresh requests filling it);
   * the others are never resent.
   */
  async batch(tenantId: string, requests: readonly GraphRequest[]): Promise<GraphAnswer[]> {
    const run: BatchRun = {
      answers: requests.map(() => undefined),
      fresh: requests.map((request, index) => ({ request, index, attempt: 1, dueAt: 0 })),
      nextFresh: 0,
      waiting: [],
      failed: false,
    };
    const workers = Math.min(this.batchConcurrency, Math.ceil(requests.length / maxBatchSize));
    await Promise.all(Array.from({ length: workers }, () => this.batchWorker(tenantId, run)));
    return run.answers as GraphAnswer[];
  }

  private async batchWorker(tenantId: string, run: BatchRun): Promise<void> {
    while (!run.failed && (run.nextFresh < run.fresh.length || run.waiting.length > 0)) {
      const items = takeDue(run, this.clock.now());
      if (items.length === 0) {
        const earliest = Math.min(...run.waiting.map((item) => item.dueAt));
        await this.clock.sleep(earliest - this.clock.now());
        continue;
      }
      try {
        await this.sendBatch(tenantId, run, items);
      } catch (error) {
        run.failed = true; // the other workers stop: the call has failed as a whole
        throw error;
      }
    }
  }

  /** One $batch of `items`; final answers go to the run, retryable ones back to its waiting list with their due time. */
  private async sendBatch(tenantId: string, run: BatchRun, items: readonly BatchItem[]): Promise<void> {
    await this.budget.take(tenantId, items.length);
    this.stats.operations += items.length;
    this.stats.batches += 1;
    const attempt = Math.max(...items.map((item) => item.attempt));
    const envelope = await this.exchange(tenantId, batchRequest(items.map((item) => item.request)), attempt);
    const subAnswers = envelope === undefined ? undefined : readBatchAnswers(envelope, items.length);
    if (subAnswers === undefined) {
      // The $batch itself failed (network, 429/5xx on the envelope): all of it again, within the attempts.
      if (envelope !== undefined && !isRetryable(envelope.status)) {
        throw new GraphRequestError(`Graph refused a $batch: ${describe(envelope)}`, envelope.status, graphErrorOf(envelope.body).code);
      }
      if (attempt >= this.maxAttempts) {
        throw new GraphUnavailableError(`Graph's $batch kept failing after ${attempt} attempts${envelope ? `: ${describe(envelope)}` : ''}`, envelope?.status);
      }
      const wait = this.retryWait(envelope === undefined ? [] : [envelope], attempt);
      if (envelope?.status === 429) this.budget.holdOff(tenantId, wait);
      const dueAt = this.clock.now() + wait;
      for (const item of items) run.waiting.push({ ...item, attempt: item.attempt + 1, dueAt });
      this.stats.retries += items.length;
      return;
    }
    const retried: { item: BatchItem; answer: GraphAnswer }[] = [];
    items.forEach((item, position) => {
      const answer = subAnswers[position] as GraphAnswer;
      this.refuseOnAuthorization(tenantId, item.request.url, answer);
      if (answer.status === 429) this.stats.throttled += 1;
      if (isRetryable(answer.status) && item.attempt < this.maxAttempts) retried.push({ item, answer });
      else run.answers[item.index] = answer;
    });
    for (const { item, answer } of retried) {
      run.waiting.push({ ...item, attempt: item.attempt + 1, dueAt: this.clock.now() + this.retryWait([answer], item.attempt) });
      this.stats.retries += 1;
    }
    // Half a $batch or more throttled: the tenant is over Graph's limit, not one unlucky request.
    const throttled = retried.filter(({ answer }) => answer.status === 429);
    if (throttled.length > 0 && throttled.length * 2 >= items.length) {
      this.budget.holdOff(tenantId, this.retryWait(throttled.map(({ answer }) => answer), attempt));
    }
  }

  /** The absolute URL of a path relative to the version root; nextLinks must stay on the Graph base, where the token may go. */
  urlOf(url: string): string {
    if (/^https?:\/\//i.test(url)) {
      if (!url.startsWith(`${this.versionRoot}/`)) throw new GraphRequestError(`Refusing to follow a link off the Graph base ${this.versionRoot}: ${url}`, 0);
      return url;
    }
    return `${this.versionRoot}${url.startsWith('/') ? '' : '/'}${url}`;
  }

  /**
   * One HTTP exchange. Undefined when no answer came (network error, timeout): the caller retries.
   * 429s on the envelope or a single request are counted here; those inside a $batch by sendBatch.
   */
  private async exchange(tenantId: string, request: GraphRequest, attempt: number): Promise<GraphAnswer | undefined> {
    const token = await this.options.tokens.token(tenantId);
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    this.stats.httpRequests += 1;
    let response: Response;
    try {
      response = await fetch(this.urlOf(request.url), {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      if (error instanceof GraphRequestError) throw error;
      if (attempt >= this.maxAttempts) {
        throw new GraphUnavailableError(`Microsoft Graph could not be reached after ${attempt} attempts: ${(error as Error).message}`, undefined, { cause: error });
      }
      return undefined;
    }
    const answer: GraphAnswer = { status: response.status, headers: headersOf(response.headers), body: await bodyOf(response) };
    if (answer.status === 429) this.stats.throttled += 1;
    return answer;
  }

  /** 401 and a missing permission are about the app, not the request: the whole call stops, by name. */
  private refuseOnAuthorization(tenantId: string, url: string, answer: GraphAnswer): void {
    if (isPermissionRefusal(answer.status, answer.body)) {
      throw new GraphPermissionError(permissionFor(url), tenantId, graphErrorOf(answer.body).message);
    }
    if (answer.status === 401) {
      throw new GraphAuthenticationError(`Microsoft Graph did not accept the app's token for tenant ${tenantId}: ${describe(answer)}`, tenantId);
    }
  }

  /**
   * How long before attempt `attempt + 1` of `failed`: the longest Retry-After among them, else a backoff.
   * Where 429s say the tenant is over Graph's limit (a single request or a $batch envelope throttled,
   * or half a $batch or more), the callers also hold the whole tenant back that long in the budget;
   * a few throttled requests in a $batch only wait themselves, so one throttled answer does not stall
   * the tenant's other work.
   */
  private retryWait(failed: readonly GraphAnswer[], attempt: number): number {
    const asked = failed.map((answer) => retryAfterMs(answer.headers['retry-after'], Date.now())).filter((ms): ms is number => ms !== undefined);
    return asked.length > 0 ? Math.max(...asked) : backoffMs(attempt, this.random);
  }
}

interface BatchItem {
  readonly request: GraphRequest;
  /** Its place in the requests of `batch`, and of the answers. */
  readonly index: number;
  /** The attempt it is due for, from 1. */
  readonly attempt: number;
  /** Clock ms before which it must not be sent again (its Retry-After). */
  readonly dueAt: number;
}

interface BatchRun {
  readonly answers: (GraphAnswer | undefined)[];
  /** Every request, in order; those from `nextFresh` on are not sent yet. */
  readonly fresh: readonly BatchItem[];
  nextFresh: number;
  /** To be sent again, each after its `dueAt`. */
  waiting: BatchItem[];
  failed: boolean;
}

/** Up to 20 items for the next $batch: retries that are due first, then fresh requests. */
function takeDue(run: BatchRun, now: number): BatchItem[] {
  const due = run.waiting.filter((item) => item.dueAt <= now).slice(0, maxBatchSize);
  if (due.length > 0) run.waiting = run.waiting.filter((item) => !due.includes(item));
  const fresh = run.fresh.slice(run.nextFresh, run.nextFresh + maxBatchSize - due.length);
  run.nextFresh += fresh.length;
  return [...due, ...fresh];
}

function batchRequest(requests: readonly GraphRequest[]): GraphRequest {
  return {
    method: 'POST',
    url: '/$batch',
    body: {
      requests: requests.map((request, index) => ({
        id: String(index + 1),
        method: request.method,
        url: request.url.startsWith('/') ? request.url : `/${request.url}`,
        ...(request.body !== undefined ? { body: request.body, headers: { 'content-type': 'application/json', ...request.headers } } : {}),
        ...(request.body === undefined && request.headers !== undefined ? { headers: request.headers } : {}),
      })),
    },
  };
}

/**
 * The answers of a 200 $batch, in the order of its requests (Graph answers them in any order, by id).
 * Undefined when the envelope is not a 200 (the $batch as a whole failed). A request left without an
 * answer counts as a 503, so it is sent again.
 */
function readBatchAnswers(envelope: GraphAnswer, count: number): GraphAnswer[] | undefined {
  if (envelope.status !== 200) return undefined;
  const responses = (envelope.body as { responses?: unknown } | undefined)?.responses;
  if (!Array.isArray(responses)) throw new GraphRequestError('Graph answered a $batch without a responses list', envelope.status);
  const byId = new Map<string, GraphAnswer>();
  for (const response of responses as unknown[]) {
    const { id, status, headers, body } = (response ?? {}) as { id?: unknown; status?: unknown; headers?: unknown; body?: unknown };
    if (typeof id !== 'string' || typeof status !== 'number') continue;
    byId.set(id, { status, headers: lowerCaseKeys(headers), body });
  }
  return Array.from({ length: count }, (_, index) => byId.get(String(index + 1)) ?? { status: 503, headers: {}, body: { error: { code: 'NoAnswerInBatch', message: 'Graph left this request of a $batch unanswered' } } });
}

function lowerCaseKeys(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null) return {};
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => typeof value === 'string').map(([key, value]) => [key.toLowerCase(), value as string]));
}

function headersOf(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, key) => (result[key.toLowerCase()] = value));
  return result;
}

async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function describe(answer: GraphAnswer): string {
  const { code, message } = graphErrorOf(answer.body);
  return [String(answer.status), code, message].filter((part) => part !== undefined && part !== '').join(' ');
}
