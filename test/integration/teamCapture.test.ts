import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TestAdapter, type Activity } from 'botbuilder';
import { NotificationBot } from '../../shared/bot/bot';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { recordingLogger } from '../support/recordingLogger';
import { storageAt } from '../support/storageAt';
import { useAzurite } from '../support/testAzurite';

const azurite = useAzurite();

const serviceUrl = 'https://smba.trafficmanager.net/emea/';
const tenantId = 'tenant-teams';
const teamId = '19:finance-general@thread.tacv2';
const bot = { id: '28:bot-app-id', name: 'Notifier' };
const user = { id: '29:user-1', name: 'Ada', aadObjectId: '00000000-0000-0000-0000-0000000000a1' };

function channel(id: string) {
  return { id, conversationType: 'channel', tenantId, isGroup: true, name: '' };
}

function setup() {
  const store = new TableConversationStore(storageAt(azurite.connectionString()), azurite.freshTableName('teams'));
  const notificationBot = new NotificationBot(store, recordingLogger());
  const adapter = new TestAdapter(async (context) => notificationBot.run(context));
  adapter.conversation = { channelId: 'msteams', serviceUrl, conversation: channel(teamId), user, bot };
  /** An activity in the given channel of the team, with Teams' channelData. */
  const send = (activity: Partial<Activity>, team: { id: string; name?: string }, channelId = teamId, eventType?: string) =>
    adapter.processActivity({
      ...activity,
      conversation: channel(channelId),
      channelData: { tenant: { id: tenantId }, team, ...(eventType === undefined ? {} : { eventType }) },
    });
  return { store, send };
}

describe('teams captured from Teams activities', () => {
  test("the bot added to a team stores the team's channel with the team's id and name, and lists the team", async () => {
    const { store, send } = setup();
    await send({ type: 'conversationUpdate', membersAdded: [bot] }, { id: teamId, name: 'Finance' });

    const stored = await store.get({ channelId: 'msteams', conversationId: teamId, tenantId });
    assert.equal(stored?.teamId, teamId);
    assert.equal(stored?.teamName, 'Finance');
    const teams = await store.listTeams(tenantId);
    assert.deepEqual(
      teams.map(({ tenantId, teamId, teamName, serviceUrl }) => ({ tenantId, teamId, teamName, serviceUrl })),
      [{ tenantId, teamId, teamName: 'Finance', serviceUrl }],
    );
    assert.equal(teams[0]?.conversation.conversationId, teamId);
  });

  test('a message in a channel, whose channelData names no team, keeps the name captured before', async () => {
    const { store, send } = setup();
    await send({ type: 'conversationUpdate', membersAdded: [bot] }, { id: teamId, name: 'Finance' });
    await send({ type: 'message', text: 'hello', from: user }, { id: teamId });

    assert.equal((await store.get({ channelId: 'msteams', conversationId: teamId, tenantId }))?.teamName, 'Finance');
  });

  test('a teamRenamed event renames the team in every stored channel of it, and the listing shows the new name', async () => {
    const { store, send } = setup();
    const newsChannel = '19:finance-news@thread.tacv2';
    await send({ type: 'conversationUpdate', membersAdded: [bot] }, { id: teamId, name: 'Finance' });
    await send({ type: 'message', text: 'hello', from: user }, { id: teamId }, newsChannel);
    assert.equal((await store.get({ channelId: 'msteams', conversationId: newsChannel, tenantId }))?.teamName, undefined);

    // Teams announces the rename in the General channel, with the new name.
    await send({ type: 'conversationUpdate' }, { id: teamId, name: 'Finance EMEA' }, teamId, 'teamRenamed');

    for (const conversationId of [teamId, newsChannel]) {
      assert.equal((await store.get({ channelId: 'msteams', conversationId, tenantId }))?.teamName, 'Finance EMEA', conversationId);
    }
    assert.deepEqual((await store.listTeams()).map((team) => [team.teamId, team.teamName, team.conversation.conversationId]), [[teamId, 'Finance EMEA', teamId]]);
  });
});

