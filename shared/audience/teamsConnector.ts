import { TeamsConnectorClient, type ConnectorClient } from 'botframework-connector';
import type { ConversationReference } from 'botbuilder';
import { makeClientSingleAttempt, type ConnectorCaller, type SendOptions } from '../delivery/proactiveSender';
import { toStoredConversation, type StoredConversation } from '../storage/conversationStore';
import { createRefusalOf, type CreateRefusal } from './createRefusal';
import type { TeamsCallGate } from './teamsCallGate';

/** A team the bot is in, as the store lists it (StoredTeam fits). */
export interface TeamAddress {
  readonly tenantId: string;
  readonly teamId: string;
  readonly serviceUrl: string;
}

/** One member of a team's roster. Teams' roster carries no email or UPN. */
export interface RosterMember {
  /** The member's Teams id (`29:...`). */
  readonly id: string;
  /** The member's Entra object id: the key a person is known by. */
  readonly aadObjectId: string;
  readonly name?: string;
  /** `user`, or `guest` for a guest of the organisation. */
  readonly userRole?: string;
}

export interface RosterPage {
  readonly members: readonly RosterMember[];
  /** Absent on the last page. */
  readonly continuationToken?: string;
}

export interface TeamChannel {
  readonly id: string;
  /** Null for the General channel (whose id is the team's). */
  readonly name: string | null;
}

/** Someone to open a personal chat with. */
export interface PersonAddress {
  readonly serviceUrl: string;
  readonly tenantId: string;
  /** The `29:` id from a roster, or the Entra object id. */
  readonly memberId: string;
  /** Stored with the new chat, so a later notification finds it by the person's object id. */
  readonly aadObjectId?: string;
}

export type CreatedConversation =
  | { readonly ok: true; readonly conversation: StoredConversation }
  | ({ readonly ok: false } & CreateRefusal);

/** Teams' largest roster page; smaller asks under 50 count as 50. */
export const maxRosterPageSize = 500;

export interface TeamsConnectorOptions {
  /** Connector calls as single attempts with the proactive sender's credentials and reused clients. */
  readonly call: ConnectorCaller;
  readonly gate: TeamsCallGate;
  /** The bot's MicrosoftAppId: the bot account of a new chat is `28:<id>`. */
  readonly botAppId: string;
}

/**
 * The Bot Connector's Teams calls for reaching people: a team's roster page by page, its
 * channels, and opening a personal chat. Each goes through the tenant's rate budget with the
 * limits of its thread (TeamsCallGate) and is tried again while Teams throttles or fails.
 */
export class TeamsConnector {
  constructor(private readonly options: TeamsConnectorOptions) {}

  /** `GET /v3/conversations/{teamId}/pagedmembers`, one page of up to `pageSize` members. */
  async membersPage(team: TeamAddress, continuationToken?: string, pageSize = maxRosterPageSize): Promise<RosterPage> {
    const page = await this.options.gate.call(rosterTarget(team), (callOptions) =>
      this.options.call(
        teamReference(team, this.botAccount()),
        (_context, client) =>
          // An absent token is left out of the query (the parameter is optional; botbuilder's type says otherwise).
          client.conversations.getConversationPagedMembers(team.teamId, { pageSize: Math.min(maxRosterPageSize, pageSize), continuationToken: continuationToken as string }),
        callOptions,
      ),
    );
    const members = (page.members ?? []).map((account) => toRosterMember(account as unknown as Record<string, unknown>));
    return page.continuationToken ? { members, continuationToken: page.continuationToken } : { members };
  }

  /** `GET /v3/teams/{teamId}/conversations`: every channel of the team the bot can post in. */
  async channels(team: TeamAddress): Promise<TeamChannel[]> {
    const list = await this.options.gate.call(rosterTarget(team), (callOptions) =>
      this.options.call(teamReference(team, this.botAccount()), (_context, client) => teamsClientOf(client, team.serviceUrl).teams.fetchChannelList(team.teamId), callOptions),
    );
    return (list.conversations ?? []).map((channel) => ({ id: channel.id ?? '', name: channel.name ?? null })).filter((channel) => channel.id !== '');
  }

  /**
   * `POST /v3/conversations` for a 1:1 chat with the person (Teams answers with the existing one if
   * there is one), tried again while throttled; a refusal comes back by its reason.
   */
  createPersonalConversation(person: PersonAddress): Promise<CreatedConversation> {
    return this.options.gate.call(createTarget(person), (callOptions) => this.createPersonalConversationOnce(person, callOptions));
  }

  /**
   * One attempt of `createPersonalConversation`, through `beforeWire` (the delivery engine's
   * own wire slot): a refusal comes back by its reason; throttling and other failures are thrown
   * for the caller to classify and retry.
   */
  async createPersonalConversationOnce(person: PersonAddress, callOptions: SendOptions = {}): Promise<CreatedConversation> {
    const bot = this.botAccount();
    try {
      const created = await this.options.call(
        { channelId: 'msteams', serviceUrl: person.serviceUrl, bot, conversation: { id: person.memberId, tenantId: person.tenantId, isGroup: false, conversationType: 'personal', name: '' } },
        (_context, client) =>
          client.conversations.createConversation({
            isGroup: false,
            bot,
            members: [{ id: person.memberId, name: '' }],
            tenantId: person.tenantId,
            channelData: { tenant: { id: person.tenantId } },
            activity: undefined as never,
          }),
        callOptions,
      );
      return { ok: true, conversation: storedPersonalConversation(person, bot, created.id, created.serviceUrl) };
    } catch (error) {
      const refusal = createRefusalOf(error);
      if (refusal === undefined) throw error;
      return { ok: false, ...refusal };
    }
  }

  private botAccount(): { id: string; name: string } {
    return { id: `28:${this.options.botAppId}`, name: '' };
  }
}

/** A roster or channel list counts against the team's roster thread. */
function rosterTarget(team: TeamAddress) {
  return { kind: 'roster', tenantId: team.tenantId, threadKey: `${team.tenantId}\u0000${team.teamId}` } as const;
}

/** A new chat is its own thread: the person's. */
function createTarget(person: PersonAddress) {
  return { kind: 'create', tenantId: person.tenantId, threadKey: `${person.tenantId}\u0000${person.memberId}` } as const;
}

function teamReference(team: TeamAddress, bot: { id: string; name: string }): Partial<ConversationReference> {
  return { channelId: 'msteams', serviceUrl: team.serviceUrl, bot, conversation: { id: team.teamId, tenantId: team.tenantId, isGroup: true, conversationType: 'channel', name: '' } };
}

function toRosterMember(account: Record<string, unknown>): RosterMember {
  const text = (name: string): string | undefined => (typeof account[name] === 'string' ? (account[name] as string) : undefined);
  const name = text('name');
  const userRole = text('userRole');
  return {
    id: text('id') ?? '',
    aadObjectId: text('aadObjectId') ?? text('objectId') ?? '',
    ...(name === undefined ? {} : { name }),
    ...(userRole === undefined ? {} : { userRole }),
  };
}

/** What the store keeps of a new personal chat, as if the person had written to the bot. */
function storedPersonalConversation(person: PersonAddress, bot: { id: string; name: string }, conversationId: string | undefined, serviceUrl: string | undefined): StoredConversation {
  const check = toStoredConversation({
    channelId: 'msteams',
    serviceUrl: serviceUrl || person.serviceUrl,
    bot,
    user: { id: person.memberId, name: '', ...(person.aadObjectId === undefined ? {} : { aadObjectId: person.aadObjectId }) },
    conversation: { id: conversationId ?? '', tenantId: person.tenantId, conversationType: 'personal', isGroup: false, name: '' },
  });
  if (!check.ok) throw new Error(`Teams created a personal chat that cannot be stored: ${check.reason}`);
  return check.conversation;
}

/** One TeamsConnectorClient per connector client (as TeamsInfo builds one), single-attempt like it. */
const teamsClients = new WeakMap<ConnectorClient, TeamsConnectorClient>();

function teamsClientOf(client: ConnectorClient, serviceUrl: string): TeamsConnectorClient {
  let teamsClient = teamsClients.get(client);
  if (teamsClient === undefined) {
    teamsClient = new TeamsConnectorClient(client.credentials, { baseUri: serviceUrl });
    makeClientSingleAttempt(teamsClient);
    teamsClients.set(client, teamsClient);
  }
  return teamsClient;
}
