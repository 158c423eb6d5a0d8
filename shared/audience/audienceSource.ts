// audience/: who a notification reaches beyond the stored conversations: audience sources, their
// expansion page by page (teams, rosters, people, groups), each person once, and a person's conversation.
import type { ConversationFilter, StoredConversation } from '../storage/conversationStore';

/** How a team source reaches the team: its own channel, every channel, or each member personally. */
export const teamDeliveries = ['channel', 'allChannels', 'members'] as const;
export type TeamDelivery = (typeof teamDeliveries)[number];

/**
 * One entry of a request's `audience`, as the client wrote it. The team is an
 * id or the name captured from installs; `tenantId` of people and groups is
 * optional (see resolveAudience).
 */
export type AudienceSource =
  | { readonly team: string; readonly deliverTo: TeamDelivery }
  | { readonly users: readonly string[]; readonly tenantId?: string }
  | { readonly group: string; readonly tenantId?: string }
  | { readonly stored: ConversationFilter };

/** A source with its team and tenant settled, as the planner expands it (stored with the notification). */
export type ResolvedSource =
  | {
      readonly kind: 'team';
      readonly deliverTo: TeamDelivery;
      readonly tenantId: string;
      readonly teamId: string;
      readonly teamName: string;
      /** The team's stored channel reference: its service URL and the reference the planner builds channel and roster calls on. */
      readonly conversation: StoredConversation;
    }
  | { readonly kind: 'users'; readonly tenantId: string; readonly users: readonly string[] }
  | { readonly kind: 'group'; readonly tenantId: string; readonly groupId: string }
  | { readonly kind: 'stored'; readonly filter: ConversationFilter };

/** Short text naming a source in logs, the preview and failures: `team "Finance" (members)`, `group 1234…`. */
export function describeSource(source: ResolvedSource): string {
  switch (source.kind) {
    case 'team':
      return `team "${source.teamName === '' ? source.teamId : source.teamName}" (${source.deliverTo})`;
    case 'users':
      return `${source.users.length} user(s) by email`;
    case 'group':
      return `group ${source.groupId}`;
    case 'stored':
      return 'stored conversations';
  }
}
