import type { StoredTeam } from '../storage/conversationStore';

/** One member of a team's roster, as Teams lists it (no email or UPN). */
export interface RosterMember {
  /** The Teams user id (`29:...`). */
  readonly id: string;
  readonly aadObjectId?: string;
  readonly name?: string;
  /** `guest` for guests. */
  readonly userRole?: string;
}

export interface RosterPage {
  readonly members: readonly RosterMember[];
  /** Absent on the last page. */
  readonly continuationToken?: string;
}

/** A channel of a team; the General channel's id is the team's id and its name is null. */
export interface TeamChannel {
  readonly id: string;
  readonly name?: string | null;
}

/** The connector calls the planner makes about a team (rate-controlled in the tenant's budget). */
export interface TeamReader {
  /** `GET /v3/conversations/{teamId}/pagedmembers`, up to 500 a page. */
  membersPage(team: StoredTeam, continuationToken?: string): Promise<RosterPage>;
  /** `GET /v3/teams/{teamId}/conversations`. */
  channels(team: StoredTeam): Promise<readonly TeamChannel[]>;
}
