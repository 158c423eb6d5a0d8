import type { Clock } from '../clock';
import type { Settings } from '../settings';
import { AppCatalog } from './appCatalog';
import type { Directory, DirectoryUser, GroupMembersPage, InstallResult, UserLookup } from './directory';
import { GraphRequestError, GraphUnavailableError } from './graphErrors';
import { describe, GraphClient, type GraphAnswer, type GraphRequest } from './graphClient';
import { graphErrorOf } from './graphPermissions';
import { isRetryable } from './graphRetry';
import { IdentityGraphTokens, type GraphTokens } from './graphTokens';
import { filterParameter, odataString } from './odata';

const userFields = 'id,userType,displayName,userPrincipalName,mail';

/** Graph's largest page of directory objects. */
const membersPageSize = 999;

/** How often the installation is looked for after installing (Graph may show it late). */
const installationLooks = 3;

/**
 * The directory over Microsoft Graph (see directory.ts for the contract). Costs, in Graph requests:
 * one per email or UPN (20 to a $batch); one per 999 group members; three per installation
 * (install, find the installation, read its chat), 20 to a $batch each.
 */
export class GraphDirectory implements Directory {
  constructor(
    private readonly client: GraphClient,
    private readonly catalog: AppCatalog,
    private readonly clock: Clock,
    /** The pause before the second look for a new installation; the third waits twice as long. */
    private readonly installationLookPauseMs = 1_000,
  ) {}

  /**
   * One filter per address, on the UPN or the primary email: they differ for guests (a guest's UPN is
   * `alice_fabrikam.com#EXT#@…`, its mail `alice@fabrikam.com`) and where sign-in names are not addresses.
   */
  async findUsers(tenantId: string, emailsOrUpns: readonly string[]): Promise<readonly UserLookup[]> {
    const requests = emailsOrUpns.map((query): GraphRequest => ({
      method: 'GET',
      url: `/users?${filterParameter(`userPrincipalName eq ${odataString(query)} or mail eq ${odataString(query)}`)}&$select=${userFields}`,
    }));
    const answers = await this.client.batch(tenantId, requests);
    return emailsOrUpns.map((query, index) => lookupOf(query, answers[index] as GraphAnswer));
  }

  async groupMembers(tenantId: string, groupId: string, nextLink?: string): Promise<GroupMembersPage> {
    const url =
      nextLink ??
      `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=id,userType,displayName&$top=${membersPageSize}&$count=true`;
    // The cast to users is an advanced query: it needs ConsistencyLevel and $count.
    const answer = await this.client.send(tenantId, { method: 'GET', url, headers: { ConsistencyLevel: 'eventual' } });
    if (answer.status === 404 || isMalformedId(answer)) return { outcome: 'notFound' };
    const body = expectOk(answer, `the members of group ${groupId}`) as { value?: unknown; '@odata.nextLink'?: unknown };
    const users = (Array.isArray(body.value) ? body.value : []).map(directoryUser).filter((user): user is DirectoryUser => user !== undefined);
    const next = body['@odata.nextLink'];
    return { outcome: 'found', users, ...(typeof next === 'string' ? { nextLink: next } : {}) };
  }

  async installForUsers(tenantId: string, userIds: readonly string[]): Promise<readonly InstallResult[]> {
    const distinct = [...new Set(userIds)];
    if (distinct.length === 0) return [];
    const catalogId = await this.catalog.idFor(tenantId);
    const results = new Map<string, InstallResult>();
    const installed = await this.install(tenantId, catalogId, distinct, results);
    const installations = await this.findInstallations(tenantId, catalogId, installed, results);
    await this.readChats(tenantId, installations, results);
    return userIds.map((userId) => results.get(userId) ?? { userId, outcome: 'failed', error: 'no answer from Graph' });
  }

  /** Installs the app for each; answers who has it now (201, or 409: already). */
  private async install(tenantId: string, catalogId: string, userIds: readonly string[], results: Map<string, InstallResult>): Promise<string[]> {
    const body = { 'teamsApp@odata.bind': this.client.urlOf(`/appCatalogs/teamsApps/${encodeURIComponent(catalogId)}`) };
    const answers = await this.client.batch(tenantId, userIds.map((userId) => ({ method: 'POST', url: installedAppsOf(userId), body })));
    const installed: string[] = [];
    userIds.forEach((userId, index) => {
      const answer = answers[index] as GraphAnswer;
      if (answer.status === 201 || answer.status === 409 || answer.status === 200) installed.push(userId);
      else results.set(userId, personalFailure(userId, answer, 'install the app'));
    });
    return installed;
  }

  /** The installation of the app for each person, looked for again a few times when Graph does not show it yet. */
  private async findInstallations(
    tenantId: string,
    catalogId: string,
    userIds: readonly string[],
    results: Map<string, InstallResult>,
  ): Promise<Map<string, string>> {
    const installations = new Map<string, string>();
    let missing = [...userIds];
    for (let look = 1; look <= installationLooks && missing.length > 0; look++) {
      if (look > 1) await this.clock.sleep(this.installationLookPauseMs * (look - 1));
      const url = (userId: string): string =>
        `${installedAppsOf(userId)}?$expand=teamsApp&${filterParameter(`teamsApp/id eq ${odataString(catalogId)}`)}`;
      const answers = await this.client.batch(tenantId, missing.map((userId) => ({ method: 'GET', url: url(userId) })));
      const stillMissing: string[] = [];
      missing.forEach((userId, index) => {
        const answer = answers[index] as GraphAnswer;
        const installation = answer.status === 200 ? firstId(answer.body) : undefined;
        if (installation !== undefined) installations.set(userId, installation);
        else if (answer.status === 200) stillMissing.push(userId);
        else results.set(userId, personalFailure(userId, answer, 'find the app\'s installation'));
      });
      missing = stillMissing;
    }
    for (const userId of missing) {
      results.set(userId, { userId, outcome: 'failed', error: `the app was installed, but Graph did not show the installation after ${installationLooks} looks` });
    }
    return installations;
  }

  private async readChats(tenantId: string, installations: Map<string, string>, results: Map<string, InstallResult>): Promise<void> {
    const userIds = [...installations.keys()];
    const answers = await this.client.batch(
      tenantId,
      userIds.map((userId) => ({ method: 'GET', url: `${installedAppsOf(userId)}/${encodeURIComponent(installations.get(userId) as string)}/chat?$select=id` })),
    );
    userIds.forEach((userId, index) => {
      const answer = answers[index] as GraphAnswer;
      const chatId = answer.status === 200 ? (answer.body as { id?: unknown } | undefined)?.id : undefined;
      results.set(userId, typeof chatId === 'string' ? { userId, outcome: 'installed', chatId } : personalFailure(userId, answer, 'read the personal chat'));
    });
  }
}

export interface GraphDirectoryOptions {
  readonly clock: Clock;
  /** Default: tokens from the bot's credentials (graphTokens.ts). */
  readonly tokens?: GraphTokens;
  /** Graph requests per second per tenant; see GraphClientOptions. */
  readonly perSecond?: number;
  readonly maxAttempts?: number;
  /** See GraphDirectory. */
  readonly installationLookPauseMs?: number;
}

/** The directory and its client, as the app's settings describe them. */
export function graphDirectoryFromSettings(settings: Settings, options: GraphDirectoryOptions): { directory: GraphDirectory; client: GraphClient } {
  const client = new GraphClient({
    baseUrl: settings.microsoftGraphUrl,
    tokens: options.tokens ?? new IdentityGraphTokens(settings),
    clock: options.clock,
    ...(options.perSecond !== undefined ? { perSecond: options.perSecond } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  });
  const catalog = new AppCatalog(client, { teamsAppCatalogId: settings.teamsAppCatalogId, manifestId: settings.microsoftAppId });
  return { directory: new GraphDirectory(client, catalog, options.clock, options.installationLookPauseMs), client };
}

function installedAppsOf(userId: string): string {
  return `/users/${encodeURIComponent(userId)}/teamwork/installedApps`;
}

function lookupOf(query: string, answer: GraphAnswer): UserLookup {
  if (answer.status === 404) return { query, outcome: 'notFound' };
  const body = expectOk(answer, `the user ${query}`) as { value?: unknown };
  const candidates = (Array.isArray(body.value) ? body.value : []) as Record<string, unknown>[];
  // Two people can match one address (one by UPN, another by mail): the sign-in name wins.
  const exact = candidates.find((candidate) => typeof candidate.userPrincipalName === 'string' && candidate.userPrincipalName.toLowerCase() === query.toLowerCase());
  const user = directoryUser(exact ?? candidates[0]);
  return user === undefined ? { query, outcome: 'notFound' } : { query, outcome: 'found', user };
}

function directoryUser(value: unknown): DirectoryUser | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, userType, displayName } = value as Record<string, unknown>;
  if (typeof id !== 'string') return undefined;
  // Accounts created before userType existed have none: they are members.
  return { id, userType: userType === 'Guest' ? 'Guest' : 'Member', ...(typeof displayName === 'string' ? { displayName } : {}) };
}

/** The body of a 200; any other answer ends the whole call, by name. */
function expectOk(answer: GraphAnswer, what: string): object {
  if (answer.status === 200 && typeof answer.body === 'object' && answer.body !== null) return answer.body;
  if (isRetryable(answer.status) || answer.status >= 500) {
    throw new GraphUnavailableError(`Microsoft Graph did not answer for ${what}: ${describe(answer)}`, answer.status);
  }
  throw new GraphRequestError(`Microsoft Graph refused the request for ${what}: ${describe(answer)}`, answer.status);
}

/** Graph's 400 for an id that is not an object id at all ("Invalid object identifier"): no such group either. Other 400s are bugs, not absences. */
function isMalformedId(answer: GraphAnswer): boolean {
  return answer.status === 400 && /invalid object identifier/i.test(graphErrorOf(answer.body).message ?? '');
}

/**
 * One person's failed step. Teams answers 404 "User Id '…' not found." for a person who is not in the
 * directory, and a bare 404 "Not Found" when the catalog has no app of the id given (a wrong
 * TEAMS_APP_CATALOG_ID, or the app removed from the catalog): only the first is "no such person".
 */
function personalFailure(userId: string, answer: GraphAnswer, step: string): InstallResult {
  const { code, message } = graphErrorOf(answer.body);
  if (answer.status === 404 && (code === 'Request_ResourceNotFound' || /user.*not found/i.test(message ?? ''))) return { userId, outcome: 'notFound' };
  const hint = answer.status === 404 ? ' (is the app in the tenant\'s catalog under the id used? see TEAMS_APP_CATALOG_ID)' : '';
  return { userId, outcome: 'failed', error: `could not ${step}: ${describe(answer)}${hint}` };
}

function firstId(body: unknown): string | undefined {
  const value = (body as { value?: unknown } | undefined)?.value;
  const first = Array.isArray(value) ? (value[0] as { id?: unknown } | undefined) : undefined;
  return typeof first?.id === 'string' ? first.id : undefined;
}
