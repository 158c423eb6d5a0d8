import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Activity } from 'botbuilder';
import {
  BotFrameworkAuthentication,
  ConnectorFactory,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';

/**
 * Connection reuse for proactive sends.
 *
 * CloudAdapter builds a new ConnectorClient (credentials, pipeline, and a
 * UserTokenClient nobody uses in a proactive turn) for every
 * `continueConversationAsync`: at 1,000+ sends/s that construction is most of
 * the CPU. It gets them from `BotFrameworkAuthentication.createConnectorFactory(claims)
 * .create(serviceUrl, audience)` and `createUserTokenClient(claims)`, the
 * supported seam (the abstract class CloudAdapter is built on; botbuilder's own
 * ConfigurationBotFrameworkAuthentication implements it). `ReusedConnectorClients`
 * wraps it and hands out one ConnectorClient per bot, serviceUrl and audience,
 * created once and kept (its credentials cache the token as before).
 *
 * Connections: `OriginAgents` holds one keep-alive agent per serviceUrl origin,
 * with a bound on its sockets; the proactive sender sets it on each request
 * (core-rest-pipeline honours `PipelineRequest.agent`). Without it the
 * pipeline's shared default agent keeps connections alive too, but with no
 * bound, one pool for every host.
 *
 * What this relies on (botbuilder / botframework-connector 4.23, @azure/core-rest-pipeline 1.24):
 * - CloudAdapter's proactive turn gets its client from the BotFrameworkAuthentication it was
 *   built with (`createConnectorFactory(claims).create(serviceUrl, audience)`), public API.
 * - A ConnectorClient may be used by many turns at once (it holds no per-turn state; botbuilder
 *   itself shares one for the whole of an inbound turn).
 * - core-rest-pipeline's Node HTTP client uses `request.agent` when set. If it stopped, requests
 *   would fall back to its shared keep-alive agent: still reused, but without the bound (no error).
 * The pipeline's policy names the sender changes are checked there (ConnectorInternalsChangedError).
 */

/** Most connector clients kept; Teams uses a handful of serviceUrls (one per region). */
const maxClients = 200;

export class ReusedConnectorClients extends BotFrameworkAuthentication {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();
  private readonly userTokenClients = new Map<string, Promise<UserTokenClient>>();
  /** One factory per claims, made once: CloudAdapter asks for one on every turn. */
  private readonly factories = new Map<string, ConnectorFactory>();

  constructor(private readonly inner: BotFrameworkAuthentication) {
    super();
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    const identity = keyOf(claimsIdentity);
    let factory = this.factories.get(identity);
    if (factory === undefined) {
      factory = new ReusingConnectorFactory(this.inner.createConnectorFactory(claimsIdentity), this.clients, identity);
      this.factories.set(identity, factory);
      evictOldest(this.factories);
    }
    return factory;
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return cached(this.userTokenClients, keyOf(claimsIdentity), () => this.inner.createUserTokenClient(claimsIdentity));
  }

  override authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    return this.inner.authenticateRequest(activity, authHeader);
  }

  override authenticateStreamingRequest(authHeader: string, channelIdHeader: string): Promise<AuthenticateRequestResult> {
    return this.inner.authenticateStreamingRequest(authHeader, channelIdHeader);
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return this.inner.authenticateChannelRequest(authHeader);
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }

  override getOriginatingAudience(): string {
    return this.inner.getOriginatingAudience();
  }
}

/** Hands out the cached connector client of its claims (`identity`), serviceUrl and audience. */
class ReusingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly clients: Map<string, Promise<ConnectorClient>>,
    private readonly identity: string,
  ) {
    super();
  }

  override create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return cached(this.clients, `${this.identity}\u0000${serviceUrl}\u0000${audience ?? ''}`, () => this.inner.create(serviceUrl, audience));
  }
}

/** The claims a factory is created for (for a proactive turn: the bot's app id as audience and appid). */
function keyOf(claimsIdentity: ClaimsIdentity): string {
  return JSON.stringify(claimsIdentity.claims.map(({ type, value }) => [type, value]));
}

/** One creation per key; a failed one is forgotten (credentials may work next time), the oldest goes past the bound. */
function cached<T>(entries: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  const existing = entries.get(key);
  if (existing !== undefined) return existing;
  const created = create();
  entries.set(key, created);
  created.catch(() => entries.delete(key));
  evictOldest(entries);
  return created;
}

/** Past `maxClients` entries, the oldest goes. */
function evictOldest(entries: Map<string, unknown>): void {
  if (entries.size <= maxClients) return;
  const oldest = entries.keys().next().value;
  if (oldest !== undefined) entries.delete(oldest);
}

/** One keep-alive agent per origin (scheme, host, port), each with at most `maxSockets` sockets. */
export class OriginAgents {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(private readonly maxSockets: number) {}

  for(url: string): HttpAgent {
    const { origin, protocol } = new URL(url);
    let agent = this.agents.get(origin);
    if (agent === undefined) {
      const options = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, scheduling: 'lifo' as const };
      agent = protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(origin, agent);
    }
    return agent;
  }

  /** Closes every connection (idle and in use). */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
