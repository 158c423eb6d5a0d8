import { teamDeliveries, type AudienceSource } from '../audience/audienceSource';
import type { ConversationFilter } from '../storage/conversationStore';

/**
 * The request's `audience`: an array of sources, each exactly one of
 * `{ team, deliverTo }`, `{ users, tenantId? }`, `{ group, tenantId? }`,
 * `{ stored }`. Shape and sizes only: team names and tenants are settled
 * against the store when the notification is accepted (resolveAudience).
 */

/** At most this many sources in one request. */
export const maxAudienceSources = 50;
/** At most this many emails or UPNs in one request, over all its `users` sources (about 400 KB of JSON). */
export const maxAudienceUsers = 10_000;
/** An email address or UPN is at most 320 characters (64 + @ + 255). */
const maxUserChars = 320;
/** Entra object ids (groups, tenants) are GUIDs. */
export const guidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const userPattern = /^[^\s@]+@[^\s@]+$/;
const sourceKinds = ['team', 'users', 'group', 'stored'] as const;

export type AudienceValidation = { readonly ok: true; readonly value: readonly AudienceSource[] } | { readonly ok: false; readonly errors: readonly string[] };

export function validateAudience(value: unknown, validateTarget: (value: unknown, name: string) => { ok: true; value: ConversationFilter } | { ok: false; errors: readonly string[] }): AudienceValidation {
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, errors: ['"audience" must be a non-empty array of sources: {"team","deliverTo"}, {"users"}, {"group"} or {"stored"}.'] };
  }
  if (value.length > maxAudienceSources) return { ok: false, errors: [`"audience" has ${value.length} sources; at most ${maxAudienceSources} are accepted.`] };
  const errors: string[] = [];
  const sources: AudienceSource[] = [];
  let users = 0;
  value.forEach((item: unknown, index) => {
    const name = `audience[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`"${name}" must be an object with one of ${sourceKinds.join(', ')}.`);
      return;
    }
    const source = item as Record<string, unknown>;
    const kinds = sourceKinds.filter((kind) => source[kind] !== undefined);
    if (kinds.length !== 1) {
      errors.push(`"${name}" must have exactly one of ${sourceKinds.join(', ')}${kinds.length > 1 ? `; it has ${kinds.join(' and ')}` : ''}.`);
      return;
    }
    const parsed = parseSource(kinds[0] as (typeof sourceKinds)[number], source, name, validateTarget);
    if (parsed.ok) {
      sources.push(parsed.value);
      if ('users' in parsed.value) users += parsed.value.users.length;
    } else errors.push(...parsed.errors);
  });
  if (users > maxAudienceUsers) errors.push(`"audience" names ${users} users; at most ${maxAudienceUsers} are accepted in one request: split them over several notifications, or use a group.`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: sources };
}

type SourceValidation = { readonly ok: true; readonly value: AudienceSource } | { readonly ok: false; readonly errors: readonly string[] };

function parseSource(
  kind: (typeof sourceKinds)[number],
  source: Record<string, unknown>,
  name: string,
  validateTarget: Parameters<typeof validateAudience>[1],
): SourceValidation {
  const allowed: Record<typeof kind, readonly string[]> = { team: ['team', 'deliverTo'], users: ['users', 'tenantId'], group: ['group', 'tenantId'], stored: ['stored'] };
  const errors = Object.keys(source)
    .filter((field) => !allowed[kind].includes(field))
    .map((field) => `Unknown field "${name}.${field}"; a ${kind} source has ${allowed[kind].join(', ')}.`);
  const tenantId = source['tenantId'];
  if (tenantId !== undefined && (typeof tenantId !== 'string' || !guidPattern.test(tenantId))) errors.push(`"${name}.tenantId" must be a tenant id (a GUID).`);
  const tenant = typeof tenantId === 'string' ? { tenantId } : {};
  switch (kind) {
    case 'team': {
      const { team, deliverTo } = source;
      if (typeof team !== 'string' || team.trim() === '' || team.length > 256) errors.push(`"${name}.team" must be a team id or name, 1 to 256 characters.`);
      if (!(teamDeliveries as readonly unknown[]).includes(deliverTo)) errors.push(`"${name}.deliverTo" must be one of ${teamDeliveries.join(', ')}.`);
      return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { team: (team as string).trim(), deliverTo: deliverTo as (typeof teamDeliveries)[number] } };
    }
    case 'users': {
      const users = source['users'];
      if (!Array.isArray(users) || users.length === 0) errors.push(`"${name}.users" must be a non-empty array of email addresses or UPNs.`);
      else {
        const bad = users.filter((user) => typeof user !== 'string' || user.length > maxUserChars || !userPattern.test(user.trim()));
        if (bad.length > 0) errors.push(`"${name}.users" must hold email addresses or UPNs (name@domain); not: ${bad.slice(0, 5).map((user) => JSON.stringify(user)).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}.`);
      }
      return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { users: (users as string[]).map((user) => user.trim()), ...tenant } };
    }
    case 'group': {
      const group = source['group'];
      if (typeof group !== 'string' || !guidPattern.test(group)) errors.push(`"${name}.group" must be an Entra group id (a GUID).`);
      return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { group: group as string, ...tenant } };
    }
    case 'stored': {
      const stored = source['stored'];
      // `{}` selects every stored conversation, as a request without `target` does.
      if (typeof stored === 'object' && stored !== null && !Array.isArray(stored) && Object.keys(stored).length === 0) {
        return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { stored: {} } };
      }
      const target = validateTarget(stored, `${name}.stored`);
      if (!target.ok) errors.push(...target.errors);
      return errors.length > 0 || !target.ok ? { ok: false, errors } : { ok: true, value: { stored: target.value } };
    }
  }
}
