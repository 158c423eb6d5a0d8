import { formatCount } from './elementById';
import type { AudienceSource } from './notificationApi';

/**
 * The audience preview's count for one source of the request's `audience`,
 * in the order the request gave them: how many people (or, for stored
 * conversations, conversations) it reaches, exact, or a lower bound when
 * counting stopped at the preview's time bound.
 */
export interface SourceReach {
  /** People and conversations it names (also those other sources name). */
  readonly reaches: number;
  /** False: counting stopped before the end, and `reaches` is "at least". */
  readonly complete: boolean;
  /** Named but not in the directory (addresses, a group). */
  readonly notFound?: number;
  /** Guests of the organisation: not reached. */
  readonly guest?: number;
}

const deliveries = { channel: 'its channel', allChannels: 'every channel', members: 'each member personally' } as const;

/** One line per source: what it is, for people, and how many it reaches. */
export function describeSourceReach(source: AudienceSource, reach: SourceReach, teamName: (teamId: string) => string): string {
  const count = `${reach.complete ? '' : 'at least '}${formatCount(reach.reaches)}`;
  const people = `${count} ${plural(reach.reaches, 'person', 'people')}${unreached(reach)}`;
  if ('team' in source) {
    if (source.deliverTo === 'members') return `${teamName(source.team)}, ${deliveries.members}: ${people}`;
    return `${teamName(source.team)}, ${deliveries[source.deliverTo]}: ${count} ${plural(reach.reaches, 'channel', 'channels')}`;
  }
  if ('users' in source) return `${formatCount(source.users.length)} ${plural(source.users.length, 'address', 'addresses')} by email: ${people}`;
  if ('group' in source) return `Group ${source.group}: ${people}`;
  return `Stored conversations: ${count} ${plural(reach.reaches, 'conversation', 'conversations')}`;
}

/** Those named who cannot be reached, when there are any. */
function unreached(reach: SourceReach): string {
  const notFound = reach.notFound ?? 0;
  const guests = reach.guest ?? 0;
  return `${notFound > 0 ? `, ${formatCount(notFound)} not found` : ''}${guests > 0 ? `, ${formatCount(guests)} ${plural(guests, 'guest', 'guests')} (not reached)` : ''}`;
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}
