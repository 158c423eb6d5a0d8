import { AsyncLocalStorage } from 'node:async_hooks';
import type { Activity, CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { OriginAgents } from './connectionReuse';
import type { StoredConversation } from '../storage/conversationStore';
import { ConnectorInternalsChangedError, CredentialsError, SendTimeoutError } from './deliveryError';

/** Sends one activity to one stored conversation, exactly one HTTP attempt; throws what the channel answered. */
export type SendActivity = (conversation: StoredConversation, activity: Partial<Activity>, options?: SendOptions) => Promise<void>;

export interface SendOptions {
  /**
   * Awaited right before the HTTP request is written (after token acquisition): the rate limiter's wire slot.
   * `signal` aborts when the attempt times out meanwhile: the request will not be sent.
   */
  readonly beforeWire?: (signal: AbortSignal) => Promise<void>;
}

export interface ProactiveSenderOptions {
  /** One HTTP attempt is aborted after this long (default 15 s, well inside the 230 s an HTTP function has). */
  readonly attemptTimeoutMs?: number;
  /** Most connections open at once to one serviceUrl origin (default 64). */
  readonly maxSocketsPerOrigin?: number;
}

/** What the connector pipeline's policies need to know about the attempt they are sending. */
interface Attempt {
  readonly signal: AbortSignal;
  readonly beforeWire: ((signal: AbortSignal) => Promise<void>) | undefined;
  readonly agents: OriginAgents;
}

/**
 * A send through `CloudAdapter.continueConversationAsync`, tuned for the engine:
 *
 * - The connector client's pipeline (@azure/core-rest-pipeline) retries 429,
 *   5xx and network errors up to 3 times on its own, and botbuilder does not
 *   pass `ConnectorClientOptions.retryOptions` on to it (checked: with
 *   `{ retryOptions: { maxRetries: 0 } }` a 503 still reaches the channel 4
 *   times). So each connector client a send meets gets its `defaultRetryPolicy`
 *   removed, once: the engine is the only place that retries, and counts every attempt.
 * - Connections are reused: a request goes through a keep-alive agent of its
 *   serviceUrl's origin, with at most `maxSocketsPerOrigin` sockets. With an
 *   adapter built on ReusedConnectorClients (services.ts does) the connector
 *   client itself is built once per serviceUrl, not per send (connectionReuse.ts).
 *   The pipeline is then shared by concurrent sends, so what belongs to one
 *   attempt (its abort signal, its wire gate) reaches the pipeline's policies
 *   through an AsyncLocalStorage around the turn, not by changing the pipeline
 *   (relied on: botbuilder runs the turn and the connector call in the promise
 *   chain of `continueConversationAsync`, so the store reaches the policies; a
 *   policy that finds no store lets the request through untouched).
 * - Each attempt has a timeout covering all of it (credentials, token, wire
 *   gate, HTTP request): past it the send rejects with SendTimeoutError even
 *   if a step ignores the abort signal, and a late answer is not counted.
 * - A failure to obtain a token is told apart from an HTTP error (CredentialsError).
 * - Errors are caught inside the turn and rethrown here, so the adapter's
 *   onTurnError does not log every throttled attempt as an unhandled error.
 *
 * `botAppId` must be the bot's MicrosoftAppId: it selects the credentials the
 * outgoing request is signed with ('' only when auth is disabled).
 */
export function createProactiveSender(
  adapter: CloudAdapter,
  botAppId: string,
  options: ProactiveSenderOptions = {},
): SendActivity {
  return senderOf(createConnectorCaller(adapter, botAppId, options));
}

/** Sends through a connector caller (one the other connector calls share, with its connection pool). */
export function senderOf(call: ConnectorCaller): SendActivity {
  return async (conversation, activity, sendOptions = {}) => {
    await call(toReference(conversation), async (context) => {
      await context.sendActivity(activity);
    }, sendOptions);
  };
}

/**
 * Runs `work` in a proactive turn of `reference` (its serviceUrl picks the connector client), as one
 * attempt exactly like a send: one HTTP request, no hidden retries, the same timeout, wire gate and
 * connection pool. `work` makes its one request through the turn's context or the ConnectorClient it
 * is given; what the channel answers is thrown as is.
 */
export type ConnectorCaller = <T>(reference: Partial<ConversationReference>, work: ConnectorWork<T>, options?: SendOptions) => Promise<T>;

/** What a connector call does in its turn: one request, through the turn's context or its (single-attempt) ConnectorClient. */
export type ConnectorWork<T> = (context: TurnContext, client: ConnectorClient) => Promise<T>;

export function createConnectorCaller(adapter: CloudAdapter, botAppId: string, options: ProactiveSenderOptions = {}): ConnectorCaller {
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  const agents = new OriginAgents(options.maxSocketsPerOrigin ?? 64);
  return async <T>(reference: Partial<ConversationReference>, work: ConnectorWork<T>, callOptions: SendOptions = {}): Promise<T> => {
    // One timer covers the whole attempt: credentials, token, the wire gate and the HTTP request.
    // Token acquisition and the wire gate ignore abort signals, so the timer rejects on its own
    // rather than waiting for them; whatever finishes after it is not counted (it may have been
    // delivered, which a Timeout, retryable, already allows for).
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new SendTimeoutError(attemptTimeoutMs);
        controller.abort(error);
        reject(error);
      }, attemptTimeoutMs);
    });
    const scope: Attempt = { signal: controller.signal, beforeWire: callOptions.beforeWire, agents };
    const attempt = attempts.run(scope, () => turnOnce(adapter, botAppId, reference, work));
    attempt.catch(() => undefined); // a late failure after the timeout has nobody to report to
    try {
      return await Promise.race([attempt, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The attempt being sent, as seen from inside the connector pipeline. */
const attempts = new AsyncLocalStorage<Attempt>();

/** Pipelines already made single-attempt (connector clients are shared between sends). */
const configured = new WeakSet<PipelineLike>();

async function turnOnce<T>(
  adapter: CloudAdapter,
  botAppId: string,
  reference: Partial<ConversationReference>,
  work: ConnectorWork<T>,
): Promise<T> {
  let turnStarted = false;
  let outcome: { readonly value: T } | { readonly error: unknown } | undefined;
  try {
    await adapter.continueConversationAsync(botAppId, reference, async (context) => {
      turnStarted = true;
      try {
        makeSingleAttempt(connectorPipelineOf(context, adapter));
        outcome = { value: await work(context, connectorClientOf(context, adapter)) };
      } catch (error) {
        outcome = { error };
      }
    });
  } catch (error) {
    // Before the turn, the adapter only builds credentials and the connector client.
    if (!turnStarted) throw new CredentialsError('Could not create credentials for the bot', error);
    throw error;
  }
  if (outcome === undefined) throw new ConnectorInternalsChangedError('the proactive turn did not run');
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/**
 * Makes another client built on the connector's credentials (botbuilder's TeamsConnectorClient, as
 * TeamsInfo builds one) single-attempt like the connector client: its requests then go through the
 * attempt's timeout, wire gate and connection pool too.
 */
export function makeClientSingleAttempt(serviceClient: unknown): void {
  const pipeline = property(property(serviceClient, 'client'), 'pipeline');
  if (!isPipeline(pipeline)) throw new ConnectorInternalsChangedError('the client has no core-rest-pipeline Pipeline');
  makeSingleAttempt(pipeline);
}

/** The turn's ConnectorClient (the one its requests are made single-attempt on). */
function connectorClientOf(context: TurnContext, adapter: CloudAdapter): ConnectorClient {
  const client: unknown = context.turnState.get(adapter.ConnectorClientKey);
  if (typeof client !== 'object' || client === null) throw new ConnectorInternalsChangedError('the turn has no ConnectorClient');
  return client as ConnectorClient;
}

function toReference(conversation: StoredConversation): ConversationReference {
  return { ...conversation.reference, serviceUrl: conversation.serviceUrl } as ConversationReference;
}

interface PipelineRequestLike {
  readonly url: string;
  abortSignal?: AbortSignal;
  agent?: unknown;
}

type NextPolicy = (request: PipelineRequestLike) => Promise<unknown>;

interface PipelinePolicyLike {
  readonly name: string;
  sendRequest(request: PipelineRequestLike, next: NextPolicy): Promise<unknown>;
}

interface PipelineLike {
  addPolicy(policy: PipelinePolicyLike): void;
  removePolicy(options: { name: string }): unknown[];
  getOrderedPolicies(): PipelinePolicyLike[];
}

const retryPolicyName = 'defaultRetryPolicy';
const signPolicyName = 'ServiceClientContext_Credentials_SignRequest';

/** The core-rest-pipeline Pipeline of the turn's ConnectorClient (fresh per turn, or shared: see ReusedConnectorClients). */
function connectorPipelineOf(context: TurnContext, adapter: CloudAdapter): PipelineLike {
  const connectorClient: unknown = context.turnState.get(adapter.ConnectorClientKey);
  const serviceClient = property(connectorClient, 'client');
  const pipeline = property(serviceClient, 'pipeline');
  if (!isPipeline(pipeline)) throw new ConnectorInternalsChangedError('the ConnectorClient has no core-rest-pipeline Pipeline');
  return pipeline;
}

/**
 * Once per pipeline: no retry policy, token failures told apart, and the attempt's own policy
 * (abort signal, wire gate, connection pool) last before the HTTP client.
 */
function makeSingleAttempt(pipeline: PipelineLike): void {
  if (configured.has(pipeline)) return;
  const policies = pipeline.getOrderedPolicies();
  const sign = policies.find((policy) => policy.name === signPolicyName);
  if (!policies.some((policy) => policy.name === retryPolicyName) || sign === undefined) {
    throw new ConnectorInternalsChangedError(`expected policies ${retryPolicyName} and ${signPolicyName}`);
  }
  pipeline.removePolicy({ name: retryPolicyName });
  pipeline.removePolicy({ name: signPolicyName });
  pipeline.addPolicy(reportingTokenFailures(sign));
  pipeline.addPolicy(attemptPolicy);
  configured.add(pipeline);
}

/**
 * The attempt's abort signal on the HTTP request (its timer aborts the request itself; the sender's
 * race stops waiting for it), the wire gate right before it is written, and its origin's agent.
 */
const attemptPolicy: PipelinePolicyLike = {
  name: 'proactiveSenderAttempt',
  async sendRequest(request, next) {
    const attempt = attempts.getStore();
    if (attempt === undefined) return next(request); // not one of the sender's attempts
    const { signal, beforeWire, agents } = attempt;
    request.abortSignal = signal;
    request.agent = agents.for(request.url);
    if (beforeWire !== undefined) {
      await beforeWire(signal);
      // The attempt timed out while waiting for its turn: the request must not go out after all.
      if (signal.aborted) throw new SendTimeoutError(timeoutOf(signal));
    }
    return next(request);
  },
};

/** Wraps the signing policy: an error before the request is signed is a credentials problem, not the channel's answer. */
function reportingTokenFailures(sign: PipelinePolicyLike): PipelinePolicyLike {
  return {
    name: sign.name,
    async sendRequest(request, next) {
      let signed = false;
      try {
        return await sign.sendRequest(request, (signedRequest) => {
          signed = true;
          return next(signedRequest);
        });
      } catch (error) {
        if (!signed) throw new CredentialsError('Could not get a token for the bot', error);
        throw error;
      }
    },
  };
}

function timeoutOf(signal: AbortSignal): number {
  const reason: unknown = signal.reason;
  return reason instanceof SendTimeoutError ? reason.timeoutMs : 0;
}

function property(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function isPipeline(value: unknown): value is PipelineLike {
  return (
    typeof property(value, 'addPolicy') === 'function' &&
    typeof property(value, 'removePolicy') === 'function' &&
    typeof property(value, 'getOrderedPolicies') === 'function'
  );
}
