import type { Directory, DirectoryUser } from '../graph/directory';
import type { ConversationStore, StoredConversation, StoredTeam } from '../storage/conversationStore';
import type { ResolvedSource } from './audienceSource';
import type { PersonRecipient, PlannedRecipient, UnreachedRecipient } from './plannedRecipient';
import type { TeamReader, TeamChannel } from './teamReader';

/** Where expansion goes on: the source, and the page within it (a store or roster token, a Graph nextLink, an offset into emails). */
export interface ExpansionCursor {
  readonly source: number;
  readonly token?: string;
}

export interface ExpansionStep {
  readonly recipients: readonly PlannedRecipient[];
  /** Absent once the last source's last page is expanded. */
  readonly next?: ExpansionCursor;
}

export interface ExpansionReaders {
  readonly store: Pick<ConversationStore, 'list'>;
  readonly teams: TeamReader;
  readonly directory: Directory;
  /** The service URL people of a tenant found through Graph are reached at (from a stored conversation of the tenant), if known. */
  readonly serviceUrlOf: (tenantId: string) => Promise<string | undefined>;
}

export interface ExpansionOptions {
  /** Stored references listed per step. */
  readonly storedPageSize: number;
  /** Emails looked up per step (Graph $batch takes 20 at a time). */
  readonly usersPerStep: number;
}

export const defaultExpansionOptions: ExpansionOptions = { storedPageSize: 1_000, usersPerStep: 200 };

/**
 * One page of one source, from the cursor: what the planner writes as one
 * step, and the cursor after it. Stored and team-channel sources give
 * conversations; `allChannels` the team's channels as channel conversations
 * built on the team's stored reference; `members`, `users` and `group`
 * persons by Entra id (guests and unknown people of Graph sources as
 * unreached). Throws GraphPermissionError / GraphUnavailableError (whole
 * Graph calls), and the connector's errors, to the planner.
 */
export async function expandStep(
  sources: readonly ResolvedSource[],
  cursor: ExpansionCursor,
  readers: ExpansionReaders,
  options: ExpansionOptions = defaultExpansionOptions,
): Promise<ExpansionStep> {
  const source = sources[cursor.source];
  if (source === undefined) return { recipients: [] };
  const page = await expandPage(source, cursor.token, readers, options);
  const next: ExpansionCursor | undefined =
    page.token !== undefined ? { source: cursor.source, token: page.token } : cursor.source + 1 < sources.length ? { source: cursor.source + 1 } : undefined;
  return { recipients: page.recipients, ...(next === undefined ? {} : { next }) };
}

interface SourcePage {
  readonly recipients: readonly PlannedRecipient[];
  readonly token?: string;
}

async function expandPage(source: ResolvedSource, token: string | undefined, readers: ExpansionReaders, options: ExpansionOptions): Promise<SourcePage> {
  switch (source.kind) {
    case 'stored': {
      const page = await readers.store.list({ filter: source.filter, pageSize: options.storedPageSize, ...(token === undefined ? {} : { continuationToken: token }) });
      return withToken(page.items, page.continuationToken);
    }
    case 'team': {
      const team = storedTeamOf(source);
      if (source.deliverTo === 'channel') return { recipients: [source.conversation] };
      if (source.deliverTo === 'allChannels') return { recipients: (await readers.teams.channels(team)).map((channel) => channelConversation(source.conversation, channel)) };
      const page = await readers.teams.membersPage(team, token);
      const people = page.members
        .filter((member) => member.aadObjectId !== undefined && member.aadObjectId !== '')
        .map((member): PersonRecipient => ({
          kind: 'person',
          tenantId: source.tenantId,
          aadObjectId: member.aadObjectId as string,
          memberId: member.id,
          serviceUrl: team.serviceUrl,
          ...(member.name === undefined ? {} : { name: member.name }),
        }));
      return withToken(people, page.continuationToken);
    }
    case 'users': {
      const from = token === undefined ? 0 : Number(token);
      const queries = source.users.slice(from, from + options.usersPerStep);
      const lookups = await readers.directory.findUsers(source.tenantId, queries);
      const serviceUrl = await readers.serviceUrlOf(source.tenantId);
      const recipients = lookups.map((lookup): PlannedRecipient =>
        lookup.outcome === 'found'
          ? directoryPerson(source.tenantId, lookup.user, serviceUrl, lookup.query)
          : unreached(source.tenantId, 'notFound', lookup.query, `No user in the directory has the email or UPN ${lookup.query}.`),
      );
      const end = from + queries.length;
      return withToken(recipients, end < source.users.length ? String(end) : undefined);
    }
    case 'group': {
      const page = await readers.directory.groupMembers(source.tenantId, source.groupId, token);
      if (page.outcome === 'notFound') return { recipients: [unreached(source.tenantId, 'notFound', source.groupId, `No group in the directory has the id ${source.groupId}.`)] };
      const serviceUrl = await readers.serviceUrlOf(source.tenantId);
      return withToken(
        page.users.map((user) => directoryPerson(source.tenantId, user, serviceUrl, user.id)),
        page.nextLink,
      );
    }
  }
}

function withToken(recipients: readonly PlannedRecipient[], token: string | undefined): SourcePage {
  return token === undefined ? { recipients } : { recipients, token };
}

function directoryPerson(tenantId: string, user: DirectoryUser, serviceUrl: string | undefined, named: string): PlannedRecipient {
  if (user.userType === 'Guest') {
    return unreached(tenantId, 'guest', named, `${named} is a guest of the organisation: the app cannot be installed for guests, so they cannot be messaged unless they share a team with the bot.`);
  }
  return {
    kind: 'person',
    tenantId,
    aadObjectId: user.id,
    ...(serviceUrl === undefined ? {} : { serviceUrl }),
    ...(user.displayName === undefined ? {} : { name: user.displayName }),
  };
}

function unreached(tenantId: string, reason: UnreachedRecipient['reason'], subject: string, message: string): UnreachedRecipient {
  return { kind: 'unreached', tenantId, reason, subject, message };
}

function storedTeamOf(source: Extract<ResolvedSource, { kind: 'team' }>): StoredTeam {
  return { tenantId: source.tenantId, teamId: source.teamId, teamName: source.teamName, serviceUrl: source.conversation.serviceUrl, conversation: source.conversation };
}

/** A channel of the team as a conversation to post in: the team's stored reference with the channel's id. */
function channelConversation(team: StoredConversation, channel: TeamChannel): StoredConversation {
  const reference = team.reference;
  return {
    ...team,
    conversationId: channel.id,
    reference: { ...reference, conversation: { ...(reference.conversation ?? { isGroup: true, name: '' }), id: channel.id, conversationType: 'channel' } } as StoredConversation['reference'],
  };
}
