import { formatCount } from './elementById';
import type { AudienceSource } from './notificationApi';

/**
 * The audience preview's count for one source of the request's `audience`,
 * in the order the request gave them: how many people (or, for stored
 * conversations, conversations) it reaches, exact, or a lower bound when
 * counting stopped at the preview's time bound.
 */
export interface SourceReach {
  readonly reached: number;
  /** False: counting stopped before the end, and `reached` is "at least". */
  readonly complete: boolean;
}

const deliveries = { channel: 'its channel', allChannels: 'every channel', members: 'each member personally' } as const;

/** One line per source: what it is, for people, and how many it reaches. */
export function describeSourceReach(source: AudienceSource, reach: SourceReach, teamName: (teamId: string) => string): string {
  const count = `${reach.complete ? '' : 'at least '}${formatCount(reach.reached)}`;
  if ('team' in source) {
    const unit = source.deliverTo === 'members' ? plural(reach.reached, 'person', 'people') : plural(reach.reached, 'channel', 'channels');
    return `${teamName(source.team)}, ${deliveries[source.deliverTo]}: ${count} ${unit}`;
  }
  if ('users' in source) return `${formatCount(source.users.length)} ${plural(source.users.length, 'address', 'addresses')} by email: ${count} ${plural(reach.reached, 'person', 'people')}`;
  if ('group' in source) return `Group ${source.group}: ${count} ${plural(reach.reached, 'person', 'people')}`;
  return `Stored conversations: ${count} ${plural(reach.reached, 'conversation', 'conversations')}`;
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}
