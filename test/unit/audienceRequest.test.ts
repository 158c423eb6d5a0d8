import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveAudience, type KnownTeam } from '../../shared/audience/resolveAudience';
import { maxAudienceUsers } from '../../shared/notifications/audienceField';
import { parseNotificationRequest } from '../../shared/notifications/notificationRequest';
import { conversation } from '../support/conversationStoreContract';

const limits = { maxMessageBytes: 81920 };
const tenantA = '00000000-0000-4000-8000-0000000000aa';
const tenantB = '00000000-0000-4000-8000-0000000000bb';
const group = '11111111-2222-4333-8444-555555555555';

function queued(body: unknown) {
  return parseNotificationRequest(JSON.stringify(body), limits, { queued: true });
}

function errorsOf(result: ReturnType<typeof queued>): string {
  assert.equal(result.ok, false, 'the request is refused');
  return result.ok ? '' : result.errors.join(' ');
}

function team(teamId: string, teamName: string, tenantId = tenantA): KnownTeam {
  return { tenantId, teamId, teamName, conversation: conversation(teamId, { tenantId, conversationType: 'channel', teamId, teamName }) };
}

describe('the audience of a request', () => {
  it('takes teams, people, groups and stored conversations together', () => {
    const result = queued({
      text: 'Hi',
      audience: [{ team: 'Finance', deliverTo: 'members' }, { users: [' alice@contoso.com '] }, { group, tenantId: tenantA }, { stored: { conversationTypes: ['channel'] } }, { stored: {} }],
    });
    assert.ok(result.ok, result.ok ? '' : result.errors.join(' '));
    assert.deepEqual(result.value.audience, [
      { team: 'Finance', deliverTo: 'members' },
      { users: ['alice@contoso.com'] },
      { group, tenantId: tenantA },
      { stored: { conversationTypes: ['channel'] } },
      { stored: {} },
    ]);
  });

  it('is refused together with target, with both named', () => {
    const errors = errorsOf(queued({ text: 'Hi', target: { conversationTypes: ['channel'] }, audience: [{ group }] }));
    assert.match(errors, /"audience" and "target" cannot be given together/);
  });

  it('is refused by POST /api/notify, pointing to queued notifications', () => {
    const result = parseNotificationRequest(JSON.stringify({ text: 'Hi', audience: [{ group }] }), limits);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.errors.join(' '), /POST \/api\/notifications/);
  });

  it('names each bad source by its place: a missing deliverTo, an address without @, a group that is not an id, two kinds at once', () => {
    const errors = errorsOf(queued({ text: 'Hi', audience: [{ team: 'Finance' }, { users: ['alice'] }, { group: 'All Staff' }, { team: 'x', deliverTo: 'channel', group }] }));
    assert.match(errors, /"audience\[0\]\.deliverTo" must be one of channel, allChannels, members/);
    assert.match(errors, /"audience\[1\]\.users" must hold email addresses or UPNs.*"alice"/);
    assert.match(errors, /"audience\[2\]\.group" must be an Entra group id/);
    assert.match(errors, /"audience\[3\]" must have exactly one of team, users, group, stored; it has team and group/);
  });

  it(`takes at most ${maxAudienceUsers} emails in one request`, () => {
    const users = Array.from({ length: maxAudienceUsers + 1 }, (_, index) => `person${index}@contoso.com`);
    assert.match(errorsOf(queued({ text: 'Hi', audience: [{ users }] })), /at most 10000 are accepted/);
    assert.ok(queued({ text: 'Hi', audience: [{ users: users.slice(1) }] }).ok);
  });
});

describe('resolving an audience against the stored teams', () => {
  const teams = [team('19:finance-1@thread.tacv2', 'Finance'), team('19:finance-2@thread.tacv2', 'finance', tenantB), team('19:sales@thread.tacv2', 'Sales')];
  const context = { listTeams: async () => teams, defaultTenantId: '' };

  it('finds a team by its name, whatever its case, or by its id', async () => {
    const resolved = await resolveAudience([{ team: 'SALES', deliverTo: 'members' }, { team: '19:finance-2@thread.tacv2', deliverTo: 'channel' }], context);
    assert.ok(resolved.ok);
    assert.deepEqual(
      resolved.value.map((source) => (source.kind === 'team' ? [source.teamId, source.tenantId, source.deliverTo] : source.kind)),
      [['19:sales@thread.tacv2', tenantA, 'members'], ['19:finance-2@thread.tacv2', tenantB, 'channel']],
    );
  });

  it('refuses an ambiguous team name, listing each candidate with its id and tenant', async () => {
    const resolved = await resolveAudience([{ team: 'Finance', deliverTo: 'allChannels' }], context);
    assert.equal(resolved.ok, false);
    const [error] = resolved.ok ? [] : resolved.errors;
    assert.match(error ?? '', /"audience\[0\]\.team": 2 teams are named "Finance"/);
    assert.match(error ?? '', /"Finance" \(id 19:finance-1@thread\.tacv2, tenant 00000000-0000-4000-8000-0000000000aa\)/);
    assert.match(error ?? '', /"finance" \(id 19:finance-2@thread\.tacv2, tenant 00000000-0000-4000-8000-0000000000bb\)/);
  });

  it('refuses an unknown team, listing the teams it knows', async () => {
    const resolved = await resolveAudience([{ team: 'Marketing', deliverTo: 'members' }], context);
    assert.equal(resolved.ok, false);
    assert.match(resolved.ok ? '' : resolved.errors.join(' '), /no team the bot was added to has the id or name "Marketing"; known teams: .*"Sales"/);
  });

  it('gives people and groups their own tenant, else MicrosoftAppTenantId, else the one tenant of the stored teams', async () => {
    const own = await resolveAudience([{ group, tenantId: tenantB }], context);
    assert.deepEqual(own.ok && own.value, [{ kind: 'group', tenantId: tenantB, groupId: group }]);
    const configured = await resolveAudience([{ users: ['a@contoso.com'] }], { ...context, defaultTenantId: tenantB });
    assert.deepEqual(configured.ok && configured.value, [{ kind: 'users', tenantId: tenantB, users: ['a@contoso.com'] }]);
    const only = await resolveAudience([{ group }], { listTeams: async () => [team('19:t@thread.tacv2', 'T')], defaultTenantId: '' });
    assert.deepEqual(only.ok && only.value, [{ kind: 'group', tenantId: tenantA, groupId: group }]);
  });

  it('asks for the tenant of people when the bot is in several tenants and none is configured', async () => {
    const resolved = await resolveAudience([{ group }], context);
    assert.equal(resolved.ok, false);
    assert.match(resolved.ok ? '' : resolved.errors.join(' '), /"audience\[0\]\.tenantId" is needed: the bot is in 2 tenants/);
  });
});
