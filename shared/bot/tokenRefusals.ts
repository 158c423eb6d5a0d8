import type { Activity } from 'botbuilder';
import { AuthenticationError, type AuthenticateRequestResult, type BotFrameworkAuthentication, type ClaimsIdentity } from 'botframework-connector';
import { DelegatingAuthentication } from './delegatingAuthentication';

/**
 * botbuilder could not fetch the OpenID configuration or signing keys it checks
 * tokens against: our outage, not the caller's bad token (500, not 401).
 */
export class SigningKeysUnavailableError extends Error {
  constructor(override readonly cause: AuthenticationError) {
    super(`Could not load the signing keys to check the request's token: ${cause.message}`);
    this.name = 'SigningKeysUnavailableError';
  }
}

/**
 * The error names of the `jsonwebtoken` package botbuilder verifies tokens with
 * (NotBeforeError and TokenExpiredError extend JsonWebTokenError).
 */
const tokenErrorNames: ReadonlySet<string> = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

/**
 * botbuilder's authentication, with every refusal of a token made an
 * AuthenticationError. CloudAdapter answers 401 only to AuthenticationError
 * and 500 to anything else, and botbuilder 4.23 lets some refusals of a bad
 * token escape as jsonwebtoken's own errors (a bad signature, a token not yet
 * valid, an algorithm other than RS256): a bad token is bad input, never a 500.
 * Failing to load the signing keys goes the other way (SigningKeysUnavailableError).
 */
export class TokenRefusalsAs401 extends DelegatingAuthentication {
  /** @param appId the bot's MicrosoftAppId; empty when authentication is off. */
  constructor(
    inner: BotFrameworkAuthentication,
    private readonly appId: string,
  ) {
    super(inner);
  }

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await asRefusal(() => this.inner.authenticateRequest(activity, authHeader));
    // botbuilder checks an Emulator token's `appid` but not its audience, then takes the audience
    // as the app id to reply with and fails the turn with "Invalid appId." (a 500): refuse it here.
    const tokenAppId = result.claimsIdentity.getClaimValue('aud') ?? result.claimsIdentity.getClaimValue('appid');
    if (this.appId !== '' && tokenAppId !== this.appId) {
      throw new AuthenticationError(`Unauthorized. The token's audience is not this bot: ${tokenAppId}`, 401);
    }
    return result;
  }

  override authenticateStreamingRequest(authHeader: string, channelIdHeader: string): Promise<AuthenticateRequestResult> {
    return asRefusal(() => this.inner.authenticateStreamingRequest(authHeader, channelIdHeader));
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return asRefusal(() => this.inner.authenticateChannelRequest(authHeader));
  }

}

async function asRefusal<T>(authenticate: () => Promise<T>): Promise<T> {
  try {
    return await authenticate();
  } catch (error) {
    if (error instanceof AuthenticationError) {
      // botbuilder marks a failure to fetch the OpenID configuration or keys with a 5xx status.
      if (error.statusCode >= 500) throw new SigningKeysUnavailableError(error);
      throw error;
    }
    if (error instanceof Error && tokenErrorNames.has(error.name)) {
      throw new AuthenticationError(`Unauthorized. The token was refused: ${error.message}`, 401);
    }
    throw error;
  }
}
