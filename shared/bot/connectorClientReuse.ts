import { ConnectorFactory, type ClaimsIdentity, type ConnectorClient, type UserTokenClient } from 'botframework-connector';
import { DelegatingAuthentication } from './delegatingAuthentication';

/**
 * Connector clients reused across proactive turns.
 *
 * CloudAdapter builds a new ConnectorClient (credentials, pipeline, and a
 * UserTokenClient nobody uses in a proactive turn) for every
 * `continueConversationAsync`: at 1,000+ sends/s that construction is most of
 * the CPU. It gets them from `BotFrameworkAuthentication.createConnectorFactory(claims)
 * .create(serviceUrl, audience)` and `createUserTokenClient(claims)`, the
 * supported seam (the abstract class CloudAdapter is built on; botbuilder's own
 * ConfigurationBotFrameworkAuthentication implements it). `ReusedConnectorClients`
 * wraps it and hands out one ConnectorClient per bot, serviceUrl and audience,
 * created once and kept (its credentials cache the token as before). The
 * connections under them are delivery/connectionReuse.ts's.
 *
 * What this relies on (botbuilder / botframework-connector 4.23):
 * - CloudAdapter's proactive turn gets its client from the BotFrameworkAuthentication it was
 *   built with (`createConnectorFactory(claims).create(serviceUrl, audience)`), public API.
 * - A ConnectorClient may be used by many turns at once (it holds no per-turn state; botbuilder
 *   itself shares one for the whole of an inbound turn).
 * The pipeline policies the sender changes are checked in delivery/proactiveSender.ts (ConnectorInternalsChangedError).
 */

/** Most connector clients kept; Teams uses a handful of serviceUrls (one per region). */
const maxClients = 200;

export class ReusedConnectorClients extends DelegatingAuthentication {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();
  private readonly userTokenClients = new Map<string, Promise<UserTokenClient>>();
  /** One factory per claims, made once: CloudAdapter asks for one on every turn. */
  private readonly factories = new Map<string, ConnectorFactory>();

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
