import { listAll, type ConversationStore, type StoredConversation, type StoredTeam } from './conversationStore';

/**
 * The teams among the stored channel references, one entry per tenant and
 * team. A team's entry carries the reference of its General channel (whose
 * id is the team's id) when stored, else of its most recently updated
 * channel; the name is the latest one Teams announced in any of its channels.
 * Old channel rows without a team id are not teams the bot can name, and are
 * left out. Sorted by tenant, then name, then id.
 */
export async function listStoredTeams(store: Pick<ConversationStore, 'list'>, tenantId?: string): Promise<StoredTeam[]> {
  const filter = tenantId === undefined ? { conversationTypes: ['channel'] } : { tenantIds: [tenantId], conversationTypes: ['channel'] };
  const byTeam = new Map<string, StoredConversation[]>();
  for await (const channel of listAll(store, filter)) {
    if (channel.teamId === undefined || channel.teamId === '') continue;
    const key = JSON.stringify([channel.tenantId, channel.teamId]);
    byTeam.set(key, [...(byTeam.get(key) ?? []), channel]);
  }
  return [...byTeam.values()].map(teamOf).sort(
    (a, b) => compare(a.tenantId, b.tenantId) || compare(a.teamName, b.teamName) || compare(a.teamId, b.teamId),
  );
}

function teamOf(channels: StoredConversation[]): StoredTeam {
  const latestFirst = [...channels].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  const [latest] = latestFirst as [StoredConversation, ...StoredConversation[]];
  const teamId = latest.teamId ?? '';
  const conversation = latestFirst.find((channel) => channel.conversationId === teamId) ?? latest;
  const teamName = latestFirst.find((channel) => channel.teamName !== undefined && channel.teamName !== '')?.teamName ?? '';
  return { tenantId: conversation.tenantId, teamId, teamName, serviceUrl: conversation.serviceUrl, conversation };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Gives every stored channel of a team its new name (Teams announces a rename
 * once, in the General channel, while the bot may also hold other channels of
 * the team). Returns how many references were updated.
 */
export async function renameStoredTeam(
  store: Pick<ConversationStore, 'list' | 'upsert'>,
  team: { readonly tenantId: string; readonly teamId: string; readonly teamName: string },
): Promise<number> {
  const renamed: StoredConversation[] = [];
  for await (const channel of listAll(store, { tenantIds: [team.tenantId], conversationTypes: ['channel'] })) {
    if (channel.teamId === team.teamId && channel.teamName !== team.teamName) renamed.push({ ...channel, teamName: team.teamName });
  }
  for (const channel of renamed) await store.upsert(channel);
  return renamed.length;
}
