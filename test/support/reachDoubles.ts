import type { Directory, DirectoryUser, GroupMembersPage, InstallResult, UserLookup } from '../../shared/graph/directory';
import type { PersonalConversationOutcome, PersonalConversations, PersonRecipient } from '../../shared/delivery/broadcastTypes';
import type { StoredConversation } from '../../shared/storage/conversationStore';
import type { RosterPage, TeamChannel, TeamReader } from '../../shared/audience/teamReader';
import type { StoredTeam } from '../../shared/storage/conversationStore';

/** A tenant's people as the doubles of Teams and Graph know them. */
export interface DoublePerson {
  readonly aadObjectId: string;
  readonly email?: string;
  readonly guest?: boolean;
  /** Has no chat with the bot and shares no team with it: Teams refuses to create one. */
  readonly withoutApp?: boolean;
  readonly blocked?: boolean;
}

/** Teams' rosters and channels, Graph's users, groups and installs, and conversation creation, in memory, with counters. */
export class ReachDoubles implements TeamReader, Directory, PersonalConversations {
  readonly rosters = new Map<string, DoublePerson[]>();
  readonly channelLists = new Map<string, TeamChannel[]>();
  readonly groups = new Map<string, DoublePerson[]>();
  readonly people = new Map<string, DoublePerson>();
  readonly installed = new Set<string>();
  readonly counts = { creates: 0, rosterPages: 0, installs: 0, lookups: 0 };

  constructor(readonly pageSize = 500) {}

  person(person: DoublePerson): DoublePerson {
    this.people.set(person.aadObjectId, person);
    return person;
  }

  async membersPage(team: StoredTeam, continuationToken?: string): Promise<RosterPage> {
    this.counts.rosterPages += 1;
    const members = this.rosters.get(team.teamId) ?? [];
    const from = continuationToken === undefined ? 0 : Number(continuationToken);
    const page = members.slice(from, from + this.pageSize).map((member) => ({ id: `29:${member.aadObjectId}`, aadObjectId: member.aadObjectId }));
    const end = from + this.pageSize;
    return end < members.length ? { members: page, continuationToken: String(end) } : { members: page };
  }

  async channels(team: StoredTeam): Promise<readonly TeamChannel[]> {
    return this.channelLists.get(team.teamId) ?? [{ id: team.teamId, name: null }];
  }

  /** Teams' create, as ConnectorPersonalConversations answers it: a chat, or the refusal's reason. */
  async findOrCreate(person: PersonRecipient): Promise<PersonalConversationOutcome> {
    this.counts.creates += 1;
    const known = this.people.get(person.aadObjectId);
    if (known === undefined) return { ok: false, reason: 'notFound', status: 404, code: 'NotFound', message: 'The user is not in the tenant.' };
    if (known.blocked === true) return { ok: false, reason: 'blocked', status: 403, code: 'MessageWritesBlocked', message: 'The user blocked the bot.' };
    if (known.withoutApp === true && !this.installed.has(person.aadObjectId)) {
      return { ok: false, reason: 'notInstalled', status: 403, code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' };
    }
    return { ok: true, conversation: personalChat(person, `a:${person.aadObjectId}`), opened: true };
  }

  async findUsers(_tenantId: string, queries: readonly string[]): Promise<readonly UserLookup[]> {
    this.counts.lookups += queries.length;
    return queries.map((query) => {
      const person = [...this.people.values()].find((candidate) => candidate.email?.toLowerCase() === query.toLowerCase());
      return person === undefined ? { query, outcome: 'notFound' } : { query, outcome: 'found', user: userOf(person) };
    });
  }

  async groupMembers(_tenantId: string, groupId: string, nextLink?: string): Promise<GroupMembersPage> {
    const members = this.groups.get(groupId);
    if (members === undefined) return { outcome: 'notFound' };
    const from = nextLink === undefined ? 0 : Number(nextLink);
    const users = members.slice(from, from + 999).map(userOf);
    return from + 999 < members.length ? { outcome: 'found', users, nextLink: String(from + 999) } : { outcome: 'found', users };
  }

  async installForUsers(_tenantId: string, userIds: readonly string[]): Promise<readonly InstallResult[]> {
    return userIds.map((userId) => {
      if (!this.people.has(userId)) return { userId, outcome: 'notFound' };
      this.counts.installs += 1;
      this.installed.add(userId);
      return { userId, outcome: 'installed', chatId: `a:${userId}` };
    });
  }
}

function userOf(person: DoublePerson): DirectoryUser {
  return { id: person.aadObjectId, userType: person.guest === true ? 'Guest' : 'Member' };
}

export function personalChat(person: Pick<PersonRecipient, 'tenantId' | 'aadObjectId' | 'serviceUrl'>, conversationId: string): StoredConversation {
  return {
    channelId: 'msteams',
    conversationId,
    serviceUrl: person.serviceUrl,
    tenantId: person.tenantId,
    userId: `29:${person.aadObjectId}`,
    aadObjectId: person.aadObjectId,
    conversationType: 'personal',
    updatedAt: new Date(),
    reference: { channelId: 'msteams', serviceUrl: person.serviceUrl, bot: { id: 'bot', name: '' }, conversation: { id: conversationId, isGroup: false, conversationType: 'personal', tenantId: person.tenantId, name: '' } },
  };
}
