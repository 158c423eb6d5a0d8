import type { PersonRecipient } from '../../../shared/delivery/broadcastTypes';
import { createServices } from '../../../shared/services';
import type { Settings } from '../../../shared/settings';
import type { ConversationStore } from '../../../shared/storage/conversationStore';
import { TableConversationStore } from '../../../shared/storage/tableConversationStore';
import { benchSettings, deliveriesPerSecond, describeSummary, measure, printComparison, quietLogger, type PhaseResult } from '../measure';
import { withConnector } from '../remoteConnector';
import type { Scenario } from '../scenario';
import { throughputRow } from '../summaryRows';
import { teamsLike } from '../throughput';

const tenantId = 'tenant-0';
const teamId = '19:bench-everyone@thread.tacv2';
/** Teams' limit for all of an app's requests in one tenant. */
const tenantRequestsPerSecond = 50;

/**
 * One tenant's team members never messaged before: each costs a create and a send (2 requests),
 * so the channel bound is 25 people/s at 50 requests/s. The same audience a second time goes to
 * the chats stored by the first run: 1 request each, bound 50/s. Both phases in the same run, the
 * second the baseline of the first.
 */
export const personalChats: Scenario = {
  name: 'personalChats',
  description:
    'one tenant, --n=5000 team members never messaged: a new personal chat and the message each (bound 25 people/s at 50 requests/s), then the same people again through their stored chats (bound 50/s)',
  async run(context) {
    const n = context.flag('n', 5_000);
    const members = Array.from({ length: n }, (_, i) => ({ id: `29:bench-${i}`, aadObjectId: `aad-bench-${i}` }));
    return withConnector(teamsLike, async (connector) => {
      await connector.seedTeams([{ tenantId, id: teamId, members }]);
      const settings = benchSettings(context.azurite.connectionString, `benchchats${Date.now()}`);
      const store = new TableConversationStore(settings.conversationsStorage, settings.conversationsTable);
      const people: PersonRecipient[] = members.map((member) => ({ tenantId, serviceUrl: connector.serviceUrl, channelId: 'msteams', memberId: member.id, aadObjectId: member.aadObjectId }));

      const first = await measure('new chats', n, connector, () => firstTime(settings, store, people));
      const second = await measure('stored chats', n, connector, () => secondTime(settings, store));
      printComparison(`one tenant, ${n} people never messaged (engine) against the same people through their stored chats (baseline)`, first, second);
      const bound = tenantRequestsPerSecond / 2;
      console.log(`channel bound: ${bound} people/s for new chats, ${tenantRequestsPerSecond}/s for stored ones`);
      console.log(`new chats: ${deliveriesPerSecond(first).toFixed(1)} people/s = ${((100 * deliveriesPerSecond(first)) / bound).toFixed(1)}% of the bound`);
      console.log(`stored chats: ${deliveriesPerSecond(second).toFixed(1)} people/s = ${((100 * deliveriesPerSecond(second)) / tenantRequestsPerSecond).toFixed(1)}% of the bound`);
      return [
        throughputRow(`${n} people, new chats (create + send)`, first, { minPerSecond: 0.95 * bound, maxOwnThrottled: 0 }, `bound ${bound}/s`),
        throughputRow(`${n} people, their stored chats`, second, { minPerSecond: 0.95 * tenantRequestsPerSecond, maxOwnThrottled: 0 }, `bound ${tenantRequestsPerSecond}/s`),
      ];
    });
  },
};

async function firstTime(settings: Settings, store: ConversationStore, people: readonly PersonRecipient[]): Promise<PhaseResult> {
  const services = createServices(settings, { store, logger: quietLogger });
  const summary = await services.broadcast({
    id: `bench-new-${Date.now()}`,
    // 5,000 people at 25/s take 200 s: longer than an HTTP run may (the setting stops at 195 s).
    deadlineSeconds: 3_600,
    activity: { type: 'message', text: 'Benchmark notification' },
    filter: { conversationIds: [] },
    people,
  });
  return { note: `${describeSummary(summary)}, chats opened ${summary.chatsOpened ?? 0}`, reported: summary.failed + summary.notAttempted, summary };
}

async function secondTime(settings: Settings, store: ConversationStore): Promise<PhaseResult> {
  const services = createServices(settings, { store, logger: quietLogger });
  const summary = await services.broadcast({
    id: `bench-stored-${Date.now()}`,
    deadlineSeconds: 3_600,
    activity: { type: 'message', text: 'Benchmark notification' },
    filter: { tenantIds: [tenantId], conversationTypes: ['personal'] },
  });
  return { note: describeSummary(summary), reported: summary.failed + summary.notAttempted, summary };
}
