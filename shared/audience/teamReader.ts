import type { StoredTeam } from '../storage/conversationStore';
import type { RosterPage, TeamChannel } from './teamsConnector';

export type { RosterMember, RosterPage, TeamChannel } from './teamsConnector';

/** The connector calls the planner makes about a team (rate-controlled in the tenant's budget). */
export interface TeamReader {
  /** `GET /v3/conversations/{teamId}/pagedmembers`, up to 500 a page. */
  membersPage(team: StoredTeam, continuationToken?: string): Promise<RosterPage>;
  /** `GET /v3/teams/{teamId}/conversations`. */
  channels(team: StoredTeam): Promise<readonly TeamChannel[]>;
}
