import type { Activity, CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
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
}

/**
 * A send through `CloudAdapter.continueConversationAsync`, tuned for the engine:
 *
 * - The connector client's pipeline (@azure/core-rest-pipeline) retries 429,
 *   5xx and network errors up to 3 times on its own, and botbuilder does not
 *   pass `ConnectorClientOptions.retryOptions` on to it (checked: with
 *   `{ retryOptions: { maxRetries: 0 } }` a 503 still reaches the channel 4
 *   times). So each turn's fresh connector client gets its `defaultRetryPolicy`
 *   removed: the engine is the only place that retries, and counts every attempt.
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
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  return async (conversation, activity, sendOptions = {}) => {
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
    const attempt = sendOnce(adapter, botAppId, conversation, activity, controller.signal, sendOptions.beforeWire);
    attempt.catch(() => undefined); // a late failure after the timeout has nobody to report to
    try {
      await Promise.race([attempt, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
}

async function sendOnce(
  adapter: CloudAdapter,
  botAppId: string,
  conversation: StoredConversation,
  activity: Partial<Activity>,
  signal: AbortSignal,
  beforeWire: ((signal: AbortSignal) => Promise<void>) | undefined,
): Promise<void> {
  let turnStarted = false;
  let failure: { readonly error: unknown } | undefined;
  try {
    await adapter.continueConversationAsync(botAppId, toReference(conversation), async (context) => {
      turnStarted = true;
      try {
        makeSingleAttempt(connectorPipelineOf(context, adapter), signal, beforeWire);
        await context.sendActivity(activity);
      } catch (error) {
        failure = { error };
      }
    });
  } catch (error) {
    // Before the turn, the adapter only builds credentials and the connector client.
    if (!turnStarted) throw new CredentialsError('Could not create credentials for the bot', error);
    throw error;
  }
  if (failure !== undefined) throw failure.error;
}

function toReference(conversation: StoredConversation): ConversationReference {
  return { ...conversation.reference, serviceUrl: conversation.serviceUrl } as ConversationReference;
}

interface PipelineRequestLike {
  abortSignal?: AbortSignal;
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

/** The core-rest-pipeline Pipeline of the turn's ConnectorClient (a fresh client per proactive turn). */
function connectorPipelineOf(context: TurnContext, adapter: CloudAdapter): PipelineLike {
  const connectorClient: unknown = context.turnState.get(adapter.ConnectorClientKey);
  const serviceClient = property(connectorClient, 'client');
  const pipeline = property(serviceClient, 'pipeline');
  if (!isPipeline(pipeline)) throw new ConnectorInternalsChangedError('the ConnectorClient has no core-rest-pipeline Pipeline');
  return pipeline;
}

function makeSingleAttempt(pipeline: PipelineLike, signal: AbortSignal, beforeWire: ((signal: AbortSignal) => Promise<void>) | undefined): void {
  const policies = pipeline.getOrderedPolicies();
  const sign = policies.find((policy) => policy.name === signPolicyName);
  if (!policies.some((policy) => policy.name === retryPolicyName) || sign === undefined) {
    throw new ConnectorInternalsChangedError(`expected policies ${retryPolicyName} and ${signPolicyName}`);
  }
  pipeline.removePolicy({ name: retryPolicyName });
  pipeline.removePolicy({ name: signPolicyName });
  pipeline.addPolicy(reportingTokenFailures(sign));
  pipeline.addPolicy(abortingWith(signal));
  if (beforeWire !== undefined) pipeline.addPolicy(waitingFor(beforeWire, signal));
}

function waitingFor(beforeWire: (signal: AbortSignal) => Promise<void>, signal: AbortSignal): PipelinePolicyLike {
  return {
    name: 'proactiveSenderBeforeWire',
    async sendRequest(request, next) {
      await beforeWire(signal);
      // The attempt timed out while waiting for its turn: the request must not go out after all.
      if (signal.aborted) throw new SendTimeoutError(timeoutOf(signal));
      return next(request);
    },
  };
}

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

/** Lets the attempt's timer abort the HTTP request itself (the sender's race stops waiting for it). */
function abortingWith(signal: AbortSignal): PipelinePolicyLike {
  return {
    name: 'proactiveSenderAttemptTimeout',
    async sendRequest(request, next) {
      request.abortSignal = signal;
      return next(request);
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
