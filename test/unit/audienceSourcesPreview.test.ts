import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ExpansionReaders } from '../../shared/audience/audienceExpansion';
import type { ResolvedSource } from '../../shared/audience/audienceSource';
import type { Clock } from '../../shared/clock';
import { previewAudienceSources } from '../../shared/notifications/audienceSourcesPreview';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { conversation } from '../support/conversationStoreContract';
import { ReachDoubles } from '../support/reachDoubles';

const tenant = 'tenant-1';
const group = '11111111-2222-4333-8444-555555555555';

/** A clock that moves `stepMs` each time it is read: the budget runs out after a known number of pages. */
function steppingClock(stepMs: number): Clock {
  let time = 0;
  return { now: () => (time += stepMs), sleep: async () => undefined };
}

function members(from: number, count: number) {
  return Array.from({ length: count }, (_, index) => ({ aadObjectId: `aad-${from + index}` }));
}

function setup() {
  const doubles = new ReachDoubles(100);
  doubles.rosters.set('team-a', [...members(0, 250), ...members(900, 50)]);
  doubles.groups.set(group, [...members(900, 50), ...members(2_000, 30)]);
  doubles.person({ aadObjectId: 'aad-guest', email: 'guest@fabrikam.com', guest: true });
  const readers: ExpansionReaders = { store: new MemoryConversationStore(), teams: doubles, directory: doubles, serviceUrlOf: async () => undefined };
  const sources: ResolvedSource[] = [
    { kind: 'team', deliverTo: 'members', tenantId: tenant, teamId: 'team-a', teamName: 'Alpha', conversation: conversation('team-a', { tenantId: tenant, conversationType: 'channel' }) },
    { kind: 'group', tenantId: tenant, groupId: group },
    { kind: 'users', tenantId: tenant, users: ['guest@fabrikam.com', 'nobody@contoso.com'] },
  ];
  return { readers, sources };
}

describe('the preview of an audience', () => {
  it('counts what each source reaches, and each person once in the total', async () => {
    const { readers, sources } = setup();
    const preview = await previewAudienceSources(sources, readers, { clock: steppingClock(0), timeBudgetMs: 1_000 });
    assert.deepEqual(preview.sources, [
      { source: 'team "Alpha" (members)', reaches: 300, complete: true, notFound: 0, guest: 0 },
      { source: `group ${group}`, reaches: 80, complete: true, notFound: 0, guest: 0 },
      { source: '2 user(s) by email', reaches: 2, complete: true, notFound: 1, guest: 1 },
    ]);
    assert.equal(preview.matched, 330, '300 members and the 30 group members not in the team');
    assert.equal(preview.complete, true);
    assert.deepEqual(preview.byConversationType, { personal: 330 });
  });

  it('says "at least" for a source the time bound cut, and counts nothing after it', async () => {
    const { readers, sources } = setup();
    // Each read of the clock moves it 100 ms: the budget allows the first roster pages only.
    const preview = await previewAudienceSources(sources, readers, { clock: steppingClock(100), timeBudgetMs: 250 });
    const [team, rest] = [preview.sources[0], preview.sources.slice(1)];
    assert.equal(team?.complete, false);
    assert.ok(team !== undefined && team.reaches > 0 && team.reaches < 300, `reaches ${team?.reaches}`);
    assert.ok(rest.every((source) => !source.complete && source.reaches === 0));
    assert.equal(preview.complete, false);
  });
});
