import type { Directory, DirectoryUser, GroupMembersPage, InstallResult, UserLookup } from '../../shared/graph/directory';
import type { CreatedConversation, PersonalConversationCreator } from '../../shared/audience/personConversations';
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
export class ReachDoubles implements TeamReader, Directory, PersonalConversationCreator {
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

  async createPersonalConversation(input: { readonly serviceUrl: string; readonly tenantId: string; readonly memberId: string }): Promise<CreatedConversation> {
    this.counts.creates += 1;
    const aadObjectId = input.memberId.replace(/^29:/, '');
    const person = this.people.get(aadObjectId);
    if (person === undefined) return { outcome: 'notFound', message: 'The user is not in the tenant.' };
    if (person.blocked === true) return { outcome: 'blocked', message: 'MessageWritesBlocked' };
    if (person.withoutApp === true && !this.installed.has(aadObjectId)) return { outcome: 'notInstalled', message: 'The bot is not part of the conversation roster.' };
    return { outcome: 'created', conversationId: `a:${aadObjectId}` };
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
