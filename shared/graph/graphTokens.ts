import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../settings';
import { GraphAuthenticationError } from './graphErrors';

/**
 * Which credential signs the app's Graph requests for a tenant, from the bot's own settings:
 * - MicrosoftAppId empty (local runs): none, requests carry no token, as connector requests do then;
 * - MultiTenant: a client-credentials token from the tenant being addressed (each customer tenant issues its own);
 * - SingleTenant: a client-credentials token from MicrosoftAppTenantId, the only tenant the app lives in;
 * - UserAssignedMSI: the managed identity MicrosoftAppId names, and only it (see bot/botCredentials.ts for
 *   why not DefaultAzureCredential); its tenant is the identity's own.
 * The sign-in authority is the host of botbuilder's ToChannelFromBotLoginUrl, so a sovereign cloud's bot
 * settings (ChannelService) take Graph's tokens to the same cloud's login service.
 */
export type GraphCredentialChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'clientSecret'; readonly tenantId: string; readonly clientId: string; readonly authorityHost: string }
  | { readonly kind: 'managedIdentity'; readonly clientId: string };

export type GraphCredentialSettings = Pick<
  Settings,
  'microsoftAppId' | 'microsoftAppPassword' | 'microsoftAppType' | 'microsoftAppTenantId' | 'botFramework' | 'microsoftGraphUrl'
>;

/** A tenant id as Entra takes it in an authority URL: a GUID or a domain name. */
const tenantIdPattern = /^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/;

export function graphCredentialChoice(settings: GraphCredentialSettings, tenantId: string): GraphCredentialChoice {
  if (settings.microsoftAppId === '') return { kind: 'none' };
  if (settings.microsoftAppType === 'UserAssignedMSI') return { kind: 'managedIdentity', clientId: settings.microsoftAppId };
  const signInTenant = settings.microsoftAppType === 'SingleTenant' ? settings.microsoftAppTenantId : tenantId;
  return {
    kind: 'clientSecret',
    tenantId: signInTenant,
    clientId: settings.microsoftAppId,
    authorityHost: new URL(settings.botFramework.ToChannelFromBotLoginUrl).origin,
  };
}

/** The scope of an app-only Graph token: the Graph origin's `.default` (every permission the admin consented to). */
export function graphScope(graphUrl: string): string {
  return `${new URL(graphUrl).origin}/.default`;
}

/** Access tokens for Graph, per tenant; undefined when requests go without one. */
export interface GraphTokens {
  token(tenantId: string): Promise<string | undefined>;
}

export type CredentialFactory = (choice: Exclude<GraphCredentialChoice, { kind: 'none' }>, secret: string) => TokenCredential;

export const identityCredential: CredentialFactory = (choice, secret) =>
  choice.kind === 'managedIdentity'
    ? new ManagedIdentityCredential({ clientId: choice.clientId })
    : new ClientSecretCredential(choice.tenantId, choice.clientId, secret, { authorityHost: choice.authorityHost });

/**
 * One credential per sign-in tenant, kept for the life of the process: @azure/identity caches each
 * credential's token and renews it before it expires, so a run asks the login service once per tenant.
 */
export class IdentityGraphTokens implements GraphTokens {
  private readonly credentials = new Map<string, TokenCredential>();
  /** Requests for a token under way, so concurrent $batch calls of a run wait for one sign-in rather than each starting one. */
  private readonly pending = new Map<string, Promise<string>>();
  private readonly scope: string;

  constructor(
    private readonly settings: GraphCredentialSettings,
    private readonly createCredential: CredentialFactory = identityCredential,
  ) {
    this.scope = graphScope(settings.microsoftGraphUrl);
  }

  async token(tenantId: string): Promise<string | undefined> {
    const choice = graphCredentialChoice(this.settings, tenantId);
    if (choice.kind === 'none') return undefined;
    if (choice.kind === 'clientSecret' && !tenantIdPattern.test(choice.tenantId)) {
      throw new GraphAuthenticationError(`No Graph token without a tenant: "${choice.tenantId}" is not a tenant id`, choice.tenantId);
    }
    const key = choice.kind === 'managedIdentity' ? `msi ${choice.clientId}` : `secret ${choice.tenantId}`;
    let credential = this.credentials.get(key);
    if (credential === undefined) {
      credential = this.createCredential(choice, this.settings.microsoftAppPassword);
      this.credentials.set(key, credential);
    }
    let token = this.pending.get(key);
    if (token === undefined) {
      token = this.signIn(credential, choice, tenantId).finally(() => this.pending.delete(key));
      this.pending.set(key, token);
    }
    return token;
  }

  private async signIn(credential: TokenCredential, choice: Exclude<GraphCredentialChoice, { kind: 'none' }>, tenantId: string): Promise<string> {
    try {
      const accessToken = await credential.getToken(this.scope);
      if (accessToken === null) throw new Error('the credential returned no token');
      return accessToken.token;
    } catch (error) {
      const signIn = choice.kind === 'managedIdentity' ? `managed identity ${choice.clientId}` : `app ${choice.clientId} in tenant ${choice.tenantId}`;
      throw new GraphAuthenticationError(`Could not get a Microsoft Graph token for ${signIn}: ${(error as Error).message}`, tenantId, { cause: error });
    }
  }
}
