import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { expandStep, type ExpansionCursor, type ExpansionReaders } from '../../shared/audience/audienceExpansion';
import type { ResolvedSource } from '../../shared/audience/audienceSource';
import { onceEach } from '../../shared/audience/onceEach';
import { MemoryPersonClaims } from '../../shared/audience/personClaims';
import { isPerson, isUnreached, type PlannedRecipient } from '../../shared/audience/plannedRecipient';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { conversation } from '../support/conversationStoreContract';
import { ReachDoubles, type DoublePerson } from '../support/reachDoubles';

const tenant = 'tenant-1';
const group = '11111111-2222-4333-8444-555555555555';

function teamSource(teamId: string, deliverTo: 'channel' | 'allChannels' | 'members'): ResolvedSource {
  return { kind: 'team', deliverTo, tenantId: tenant, teamId, teamName: teamId, conversation: conversation(teamId, { tenantId: tenant, conversationType: 'channel', teamId }) };
}

function readers(doubles: ReachDoubles, store = new MemoryConversationStore()): ExpansionReaders {
  return { store, teams: doubles, directory: doubles, serviceUrlOf: async () => 'https://smba.example/teams/' };
}

/** Plans every step as the planner does: each step's recipients once, claimed by the step's number. */
async function planAll(sources: readonly ResolvedSource[], reach: ExpansionReaders, claims = new MemoryPersonClaims()): Promise<{ planned: PlannedRecipient[][]; claims: MemoryPersonClaims }> {
  const planned: PlannedRecipient[][] = [];
  let cursor: ExpansionCursor | undefined = { source: 0 };
  while (cursor !== undefined) {
    const step = await expandStep(sources, cursor, reach, { storedPageSize: 100, usersPerStep: 50 });
    planned.push(await onceEach(step.recipients, { claims, id: 'n1', page: planned.length }));
    cursor = step.next;
  }
  return { planned, claims };
}

function people(count: number, from = 0): DoublePerson[] {
  return Array.from({ length: count }, (_, index) => ({ aadObjectId: `aad-${String(from + index).padStart(5, '0')}` }));
}

describe('expanding an audience, each person once', () => {
  it('plans each of the distinct members of three overlapping teams once (1,050 people, 150 in two or three teams)', async () => {
    const doubles = new ReachDoubles(100);
    const shared = people(150, 90_000);
    doubles.rosters.set('team-a', [...people(250, 0), ...shared]);
    doubles.rosters.set('team-b', [...people(300, 1_000), ...shared.slice(0, 100)]);
    doubles.rosters.set('team-c', [...people(350, 2_000), ...shared.slice(50)]);
    const { planned } = await planAll(['team-a', 'team-b', 'team-c'].map((id) => teamSource(id, 'members')), readers(doubles));
    const ids = planned.flat().filter(isPerson).map((person) => person.aadObjectId);
    assert.equal(ids.length, 1_050);
    assert.equal(new Set(ids).size, 1_050);
    assert.equal(doubles.counts.rosterPages, 4 + 4 + 5, 'each roster is read page by page');
  });

  it('plans a person named by a group, by email and by a team once, and their stored personal chat not again', async () => {
    const doubles = new ReachDoubles();
    const alice = doubles.person({ aadObjectId: 'aad-alice', email: 'alice@contoso.com' });
    doubles.person({ aadObjectId: 'aad-bob', email: 'bob@contoso.com' });
    doubles.groups.set(group, [alice]);
    doubles.rosters.set('team-a', [alice]);
    const store = new MemoryConversationStore();
    await store.upsert(conversation('a:alice-chat', { tenantId: tenant, aadObjectId: 'aad-alice', conversationType: 'personal' }));
    await store.upsert(conversation('19:general@thread.tacv2', { tenantId: tenant, conversationType: 'channel', aadObjectId: 'aad-alice' }));
    const sources: ResolvedSource[] = [
      { kind: 'stored', filter: {} },
      { kind: 'group', tenantId: tenant, groupId: group },
      { kind: 'users', tenantId: tenant, users: ['ALICE@contoso.com', 'bob@contoso.com', 'bob@contoso.com'] },
      teamSource('team-a', 'members'),
    ];
    const { planned } = await planAll(sources, readers(doubles, store));
    const flat = planned.flat();
    assert.deepEqual(
      flat.map((recipient) => (isPerson(recipient) ? recipient.aadObjectId : isUnreached(recipient) ? recipient.subject : recipient.conversationId)).sort(),
      ['19:general@thread.tacv2', 'a:alice-chat', 'aad-bob'],
      'the channel and Alice\'s chat from the store, Bob once; Alice is not planned again as a person',
    );
  });

  it('keeps the people a redone step claimed itself, and only those', async () => {
    const doubles = new ReachDoubles(100);
    doubles.rosters.set('team-a', people(100));
    doubles.rosters.set('team-b', people(100, 50));
    const reach = readers(doubles);
    const sources = [teamSource('team-a', 'members'), teamSource('team-b', 'members')];
    const claims = new MemoryPersonClaims();
    const first = await planAll(sources, reach, claims);
    // A crash after step 1's claims and before its checkpoint: the step is planned again with the same number.
    const redo = await expandStep(sources, { source: 1 }, reach);
    const again = await onceEach(redo.recipients, { claims, id: 'n1', page: 1 });
    assert.deepEqual(again, first.planned[1]);
    assert.equal(again.length, 50, 'team-b brings the 50 people team-a did not');
  });

  it('lists unknown emails and an unknown group as notFound and guests as guest, instead of people', async () => {
    const doubles = new ReachDoubles();
    doubles.person({ aadObjectId: 'aad-known', email: 'known@contoso.com' });
    doubles.person({ aadObjectId: 'aad-guest', email: 'guest@fabrikam.com', guest: true });
    const sources: ResolvedSource[] = [
      { kind: 'users', tenantId: tenant, users: ['known@contoso.com', 'nobody@contoso.com', 'guest@fabrikam.com'] },
      { kind: 'group', tenantId: tenant, groupId: group },
    ];
    const { planned } = await planAll(sources, readers(doubles));
    const flat = planned.flat();
    assert.deepEqual(flat.filter(isPerson).map((person) => person.aadObjectId), ['aad-known']);
    assert.deepEqual(
      flat.filter(isUnreached).map((entry) => [entry.reason, entry.subject]),
      [['notFound', 'nobody@contoso.com'], ['guest', 'guest@fabrikam.com'], ['notFound', group]],
    );
  });

  it('turns a team\'s channels into channel conversations on the team\'s stored reference', async () => {
    const doubles = new ReachDoubles();
    doubles.channelLists.set('19:team@thread.tacv2', Array.from({ length: 12 }, (_, index) => ({ id: index === 0 ? '19:team@thread.tacv2' : `19:channel-${index}@thread.tacv2`, name: index === 0 ? null : `Channel ${index}` })));
    const { planned } = await planAll([teamSource('19:team@thread.tacv2', 'allChannels')], readers(doubles));
    const channels = planned.flat();
    assert.equal(channels.length, 12);
    for (const channel of channels) {
      assert.ok(!isPerson(channel) && !isUnreached(channel));
      assert.equal(channel.reference.conversation?.id, channel.conversationId, 'the reference addresses the channel itself');
      assert.equal(channel.conversationType, 'channel');
    }
  });
});
