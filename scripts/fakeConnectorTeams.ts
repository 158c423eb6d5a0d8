/**
 * The Teams part of the fake Bot Connector (scripts/fakeConnector.ts): teams with their rosters
 * and channels, and opening personal chats, answered as Teams answers them, with Teams' per-thread
 * limits and counters a test can read. Seeded by tests through `FakeConnector.teams`.
 *
 * Routes:
 * - `GET /v3/conversations/{teamId}/pagedmembers?pageSize=&continuationToken=`: a page of the roster.
 *   Page sizes under 50 count as 50, over 500 as 500 (absent: 200, an assumption); the token is opaque.
 * - `GET /v3/teams/{teamId}/conversations`: `{ conversations: [{ id, name }] }`; the General channel
 *   has the team's id and no name.
 * - `POST /v3/conversations` with `isGroup: false`, one member (its `29:` id or Entra object id)
 *   and the tenant: the person's 1:1 chat, the existing one if there is one (201 `{ id }`). Refused
 *   with 403 `BotNotInConversationRoster` for someone who has not installed the app and shares no
 *   team with the bot, 403 with `subCode` `MessageWritesBlocked` (Learn's body, errorCode 209) for
 *   someone who blocked the bot, and 404 `NotFound` for someone the tenant does not know (assumed).
 *
 * Limits, when the connector throttles (`throttle` set): every call counts in its tenant's
 * one-second window with the sends; a roster or channel list also in its team's thread windows
 * (14/1 s, 16/2 s, 120/30 s, 3,600/h), a create in the person's chat's (7/1 s, 8/2 s, 60/30 s,
 * 1,800/h). Over a limit: 429 `Throttled` with Retry-After, not counted.
 */

export interface FakeTeamMember {
  /** The `29:` id. */
  readonly id: string;
  readonly aadObjectId: string;
  readonly name?: string;
  /** `user` unless said (`guest` for guests). */
  readonly userRole?: 'user' | 'guest';
}

export interface FakeTeam {
  readonly tenantId: string;
  /** Also the General channel's id. */
  readonly id: string;
  readonly name?: string;
  readonly members: readonly FakeTeamMember[];
  /** Channels besides General. */
  readonly channels?: readonly { readonly id: string; readonly name: string }[];
  /** Whether the bot is in the team (default true): members of a team with the bot can be written to without the app. */
  readonly botInstalled?: boolean;
}

/** Someone of a tenant, beyond (or besides) the teams' rosters. */
export interface FakePerson extends FakeTeamMember {
  readonly tenantId: string;
  /** Installed the app personally. */
  readonly appInstalled?: boolean;
  /** Blocked the bot. */
  readonly blocked?: boolean;
}

export interface FakeTeams {
  seedTeam(team: FakeTeam): void;
  /** Adds or updates a person: installs, blocks. */
  seedPerson(person: FakePerson): void;
  /** The personal chat opened with a person (by `29:` id or object id), if any. */
  personalConversationOf(tenantId: string, member: string): string | undefined;
  /** Creates answered 201 (new chats and existing ones). */
  readonly creates: number;
  /** Of `creates`: chats that did not exist before. */
  readonly newConversations: number;
  /** Creates refused (403/404), by code. */
  readonly refusals: ReadonlyMap<string, number>;
  /** Roster pages answered 200. */
  readonly rosterCalls: number;
  /** Channel lists answered 200. */
  readonly channelListCalls: number;
  /** 429s sent to these routes because a window was full. */
  readonly throttled: number;
}

/** What the fake connector sends back (the shape of its own answers). */
export interface TeamsAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfterSeconds?: number;
  readonly byRate?: true;
}

export type TeamsRoute =
  | { readonly kind: 'roster'; readonly teamId: string; readonly pageSize?: string; readonly continuationToken?: string }
  | { readonly kind: 'channels'; readonly teamId: string }
  | { readonly kind: 'create' };

/** How the connector's shared limits see a Teams call. */
export interface TeamsThrottle {
  /** Whether limits apply at all. */
  readonly enabled: boolean;
  /** Retry-After of a 429, in seconds. */
  readonly retryAfterSeconds: number;
  /** Whether the tenant's one-second window has room (and counts the call if it has). */
  admitTenant(tenantId: string): boolean;
  now(): number;
}

/** The Teams route of a request, or undefined when it is not one of these. */
export function teamsRouteOf(method: string | undefined, url: string): TeamsRoute | undefined {
  const [path = '', query = ''] = url.split('?');
  const segments = path.split('/').filter((segment) => segment !== '');
  const params = new URLSearchParams(query);
  try {
    if (method === 'POST' && segments.length === 2 && segments[0] === 'v3' && segments[1] === 'conversations') return { kind: 'create' };
    if (method !== 'GET' || segments.length !== 4 || segments[0] !== 'v3') return undefined;
    const teamId = decodeURIComponent(segments[2] ?? '');
    if (segments[1] === 'teams' && segments[3] === 'conversations') return { kind: 'channels', teamId };
    if (segments[1] === 'conversations' && segments[3] === 'pagedmembers') {
      const pageSize = params.get('pageSize') ?? undefined;
      const continuationToken = params.get('continuationToken') ?? undefined;
      return { kind: 'roster', teamId, ...(pageSize === undefined ? {} : { pageSize }), ...(continuationToken === undefined ? {} : { continuationToken }) };
    }
  } catch {
    return undefined; // malformed %-encoding
  }
  return undefined;
}

interface Window {
  readonly limit: number;
  readonly ms: number;
}

const rosterWindows: readonly Window[] = [
  { limit: 14, ms: 1_000 },
  { limit: 16, ms: 2_000 },
  { limit: 120, ms: 30_000 },
  { limit: 3_600, ms: 3_600_000 },
];
const createWindows: readonly Window[] = [
  { limit: 7, ms: 1_000 },
  { limit: 8, ms: 2_000 },
  { limit: 60, ms: 30_000 },
  { limit: 1_800, ms: 3_600_000 },
];

const minPageSize = 50;
const maxPageSize = 500;
const defaultPageSize = 200;

export class FakeTeamsState implements FakeTeams {
  creates = 0;
  newConversations = 0;
  rosterCalls = 0;
  channelListCalls = 0;
  throttled = 0;
  readonly refusals = new Map<string, number>();
  private readonly teams = new Map<string, FakeTeam>();
  /** By tenant, then by `29:` id and by object id. */
  private readonly people = new Map<string, Map<string, FakePerson>>();
  /** Personal chats by tenant and `29:` id. */
  private readonly chats = new Map<string, string>();
  private nextChat = 1;
  private threadCalls = new Map<string, number[]>();

  seedTeam(team: FakeTeam): void {
    this.teams.set(team.id, team);
    for (const member of team.members) {
      const known = this.personOf(team.tenantId, member.id);
      if (known === undefined) this.seedPerson({ ...member, tenantId: team.tenantId });
    }
  }

  seedPerson(person: FakePerson): void {
    const tenant = this.people.get(person.tenantId) ?? new Map<string, FakePerson>();
    const merged = { ...(tenant.get(person.id) ?? {}), ...person };
    tenant.set(person.id, merged);
    tenant.set(person.aadObjectId, merged);
    this.people.set(person.tenantId, tenant);
  }

  personalConversationOf(tenantId: string, member: string): string | undefined {
    const person = this.personOf(tenantId, member);
    return person === undefined ? undefined : this.chats.get(`${tenantId}\u0000${person.id}`);
  }

  /** Counters and windows start again; teams, people and chats stay. */
  resetCounters(): void {
    this.creates = 0;
    this.newConversations = 0;
    this.rosterCalls = 0;
    this.channelListCalls = 0;
    this.throttled = 0;
    this.refusals.clear();
    this.threadCalls = new Map();
  }

  answer(route: TeamsRoute, body: string, throttle: TeamsThrottle): TeamsAnswer {
    switch (route.kind) {
      case 'roster':
        return this.roster(route, throttle);
      case 'channels':
        return this.channelList(route.teamId, throttle);
      case 'create':
        return this.create(body, throttle);
    }
  }

  private roster(route: TeamsRoute & { kind: 'roster' }, throttle: TeamsThrottle): TeamsAnswer {
    const team = this.teams.get(route.teamId);
    if (team === undefined || team.botInstalled === false) return error(404, 'ConversationNotFound', 'Conversation not found.');
    const limited = this.throttleCall(throttle, team.tenantId, `roster\u0000${team.id}`, rosterWindows);
    if (limited !== undefined) return limited;
    const requested = route.pageSize === undefined ? defaultPageSize : Number(route.pageSize);
    if (!Number.isFinite(requested)) return error(400, 'BadArgument', 'pageSize is not a number');
    const pageSize = Math.min(maxPageSize, Math.max(minPageSize, Math.floor(requested)));
    const start = route.continuationToken === undefined ? 0 : offsetOf(route.continuationToken, team.id);
    if (start === undefined) return error(400, 'BadArgument', 'The continuation token is not valid');
    const end = Math.min(team.members.length, start + pageSize);
    const members = team.members.slice(start, end).map((member) => ({
      id: member.id,
      name: member.name ?? '',
      aadObjectId: member.aadObjectId,
      tenantId: team.tenantId,
      userRole: member.userRole ?? 'user',
    }));
    this.rosterCalls += 1;
    return { status: 200, body: end < team.members.length ? { continuationToken: tokenOf(end, team.id), members } : { members } };
  }

  private channelList(teamId: string, throttle: TeamsThrottle): TeamsAnswer {
    const team = this.teams.get(teamId);
    if (team === undefined || team.botInstalled === false) return error(404, 'ConversationNotFound', 'Conversation not found.');
    const limited = this.throttleCall(throttle, team.tenantId, `roster\u0000${team.id}`, rosterWindows);
    if (limited !== undefined) return limited;
    this.channelListCalls += 1;
    return { status: 200, body: { conversations: [{ id: team.id }, ...(team.channels ?? []).map(({ id, name }) => ({ id, name }))] } };
  }

  private create(body: string, throttle: TeamsThrottle): TeamsAnswer {
    const parameters = parseObject(body);
    if (parameters === undefined) return error(400, 'BadArgument', 'The request body is not a JSON object');
    const members = parameters['members'];
    const member = Array.isArray(members) && members.length === 1 ? (members[0] as unknown) : undefined;
    const memberId = isObject(member) && typeof member['id'] === 'string' ? member['id'] : undefined;
    const tenantId = tenantOf(parameters);
    if (parameters['isGroup'] === true || memberId === undefined || tenantId === undefined) {
      return error(400, 'BadArgument', 'A personal conversation needs isGroup false, exactly one member and the tenant id');
    }
    const person = this.personOf(tenantId, memberId);
    const chatKey = `${tenantId}\u0000${person?.id ?? memberId}`;
    const limited = this.throttleCall(throttle, tenantId, `create\u0000${chatKey}`, createWindows);
    if (limited !== undefined) return limited;
    if (person === undefined) return this.refuse(404, 'NotFound', 'User not found in the tenant.');
    if (person.blocked === true) {
      this.refusals.set('MessageWritesBlocked', (this.refusals.get('MessageWritesBlocked') ?? 0) + 1);
      const message = JSON.stringify({ subCode: 'MessageWritesBlocked', details: 'Thread is blocked from message writes.', errorCode: null, errorSubCode: null }, null, 2);
      return { status: 403, body: { errorCode: 209, message } };
    }
    if (person.appInstalled !== true && !this.sharesTeamWithBot(tenantId, person.id)) {
      return this.refuse(403, 'BotNotInConversationRoster', 'The bot is not part of the conversation roster.');
    }
    let id = this.chats.get(chatKey);
    if (id === undefined) {
      id = `a:fake-personal-${this.nextChat++}`;
      this.chats.set(chatKey, id);
      this.newConversations += 1;
    }
    this.creates += 1;
    return { status: 201, body: { id } };
  }

  private refuse(status: number, code: string, message: string): TeamsAnswer {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
    return error(status, code, message);
  }

  private personOf(tenantId: string, member: string): FakePerson | undefined {
    return this.people.get(tenantId)?.get(member);
  }

  private sharesTeamWithBot(tenantId: string, memberId: string): boolean {
    for (const team of this.teams.values()) {
      if (team.tenantId === tenantId && team.botInstalled !== false && team.members.some((member) => member.id === memberId)) return true;
    }
    return false;
  }

  /** A 429 when the tenant's or the thread's windows are full; otherwise the call is counted in both. */
  private throttleCall(throttle: TeamsThrottle, tenantId: string, threadKey: string, windows: readonly Window[]): TeamsAnswer | undefined {
    if (!throttle.enabled) return undefined;
    const now = throttle.now();
    const calls = this.threadCalls.get(threadKey) ?? [];
    const longest = Math.max(...windows.map((window) => window.ms));
    while (calls.length > 0 && (calls[0] ?? now) <= now - longest) calls.shift();
    const threadFull = windows.some(({ limit, ms }) => calls.filter((at) => at > now - ms).length >= limit);
    if (threadFull || !throttle.admitTenant(tenantId)) {
      this.throttled += 1;
      return { ...error(429, 'Throttled', `Too many requests for ${threadFull ? 'this thread' : `tenant ${tenantId}`}`), retryAfterSeconds: throttle.retryAfterSeconds, byRate: true };
    }
    calls.push(now);
    this.threadCalls.set(threadKey, calls);
    return undefined;
  }
}

function tokenOf(offset: number, teamId: string): string {
  return Buffer.from(JSON.stringify([teamId, offset])).toString('base64url');
}

function offsetOf(token: string, teamId: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return Array.isArray(parsed) && parsed[0] === teamId && Number.isInteger(parsed[1]) ? (parsed[1] as number) : undefined;
  } catch {
    return undefined;
  }
}

function tenantOf(parameters: Record<string, unknown>): string | undefined {
  if (typeof parameters['tenantId'] === 'string' && parameters['tenantId'] !== '') return parameters['tenantId'];
  const channelData = parameters['channelData'];
  const tenant = isObject(channelData) ? channelData['tenant'] : undefined;
  return isObject(tenant) && typeof tenant['id'] === 'string' ? tenant['id'] : undefined;
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function error(status: number, code: string, message: string): TeamsAnswer {
  return { status, body: { error: { code, message } } };
}
