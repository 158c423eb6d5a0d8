import type { StoredConversation } from '../storage/conversationStore';
import type { AudienceSource, ResolvedSource } from './audienceSource';

/** A team the bot was added to, as the store lists it (`ConversationStore.listTeams`). */
export interface KnownTeam {
  readonly tenantId: string;
  readonly teamId: string;
  /** Empty when Teams never told the bot the team's name. */
  readonly teamName: string;
  readonly conversation: StoredConversation;
}

export interface AudienceContext {
  /** The stored teams (read at most once, and only when a source needs them). */
  readonly listTeams: () => Promise<readonly KnownTeam[]>;
  /** `MicrosoftAppTenantId`: the tenant of people and groups named without one ('' when unset). */
  readonly defaultTenantId: string;
}

export type AudienceResolution = { readonly ok: true; readonly value: readonly ResolvedSource[] } | { readonly ok: false; readonly errors: readonly string[] };

/** Candidates listed in an ambiguous or unknown team's 400. */
const candidatesListed = 10;

/**
 * Settles each source against what the app knows: a team by its id or its
 * captured name (case-insensitive; an ambiguous name or an unknown team is
 * refused, with the candidates), and the tenant of `users` and `group`
 * sources: their own `tenantId`, else MicrosoftAppTenantId, else the one
 * tenant the stored teams belong to; with several, the request must say.
 */
export async function resolveAudience(sources: readonly AudienceSource[], context: AudienceContext): Promise<AudienceResolution> {
  let teams: readonly KnownTeam[] | undefined;
  const knownTeams = async (): Promise<readonly KnownTeam[]> => (teams ??= await context.listTeams());
  const errors: string[] = [];
  const resolved: ResolvedSource[] = [];
  for (const [index, source] of sources.entries()) {
    const name = `audience[${index}]`;
    if ('stored' in source) resolved.push({ kind: 'stored', filter: source.stored });
    else if ('team' in source) {
      const match = matchTeam(source.team, await knownTeams());
      if (match.kind === 'one') {
        const { tenantId, teamId, teamName, conversation } = match.team;
        resolved.push({ kind: 'team', deliverTo: source.deliverTo, tenantId, teamId, teamName, conversation });
      } else errors.push(teamError(name, source.team, match));
    } else {
      const found = source.tenantId !== undefined ? ({ kind: 'found', tenantId: source.tenantId } as const) : await defaultTenant(context, knownTeams);
      if (found.kind === 'error') {
        errors.push(`"${name}.tenantId" is needed: ${found.message}`);
        continue;
      }
      const tenant = found.tenantId;
      resolved.push('users' in source ? { kind: 'users', tenantId: tenant, users: source.users } : { kind: 'group', tenantId: tenant, groupId: source.group });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: resolved };
}

type TeamMatch = { readonly kind: 'one'; readonly team: KnownTeam } | { readonly kind: 'many' | 'none'; readonly candidates: readonly KnownTeam[] };

function matchTeam(wanted: string, teams: readonly KnownTeam[]): TeamMatch {
  const byId = teams.filter((team) => team.teamId === wanted);
  const named = byId.length > 0 ? byId : teams.filter((team) => team.teamName.trim().toLowerCase() === wanted.toLowerCase());
  if (named.length === 1) return { kind: 'one', team: named[0] as KnownTeam };
  return named.length > 1 ? { kind: 'many', candidates: named } : { kind: 'none', candidates: teams };
}

function teamError(name: string, wanted: string, match: Exclude<TeamMatch, { kind: 'one' }>): string {
  const listed = match.candidates.slice(0, candidatesListed).map((team) => `"${team.teamName}" (id ${team.teamId}, tenant ${team.tenantId})`);
  const more = match.candidates.length > candidatesListed ? ` and ${match.candidates.length - candidatesListed} more` : '';
  if (match.kind === 'many') return `"${name}.team": ${match.candidates.length} teams are named "${wanted}"; give the id of one: ${listed.join(', ')}${more}.`;
  if (match.candidates.length === 0) return `"${name}.team": no team has the id or name "${wanted}"; the bot knows no team yet (it learns a team when it is added to it).`;
  return `"${name}.team": no team the bot was added to has the id or name "${wanted}"; known teams: ${listed.join(', ')}${more}.`;
}

async function defaultTenant(
  context: AudienceContext,
  knownTeams: () => Promise<readonly KnownTeam[]>,
): Promise<{ readonly kind: 'found'; readonly tenantId: string } | { readonly kind: 'error'; readonly message: string }> {
  if (context.defaultTenantId !== '') return { kind: 'found', tenantId: context.defaultTenantId };
  const tenants = [...new Set((await knownTeams()).map((team) => team.tenantId).filter((tenantId) => tenantId !== ''))];
  if (tenants.length === 1) return { kind: 'found', tenantId: tenants[0] as string };
  return {
    kind: 'error',
    message:
      tenants.length === 0
        ? 'MicrosoftAppTenantId is not set and the bot knows no tenant yet; give the tenant id of these people.'
        : `the bot is in ${tenants.length} tenants (${tenants.slice(0, candidatesListed).join(', ')}); give the tenant id of these people.`,
  };
}
