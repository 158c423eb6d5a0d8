import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Activity } from 'botbuilder';
import { MemoryAcknowledgementStore } from '../../shared/engagement/memoryAcknowledgementStore';
import type { LedgerEntry } from '../../shared/ledgers/deliveryLedgers';
import type { NotificationRecord } from '../../shared/queued/notificationTable';
import { remindPass, remindPlan, reminderOfPass } from '../../shared/queued/remindPass';
import { parseRemindRequest } from '../../shared/queued/remindRequest';
import type { QueuedDependencies } from '../../shared/queued/workContext';
import type { StoredConversation } from '../../shared/storage/conversationStore';
import { conversation } from '../support/conversationStoreContract';

const pass = remindPass('second-call');
const delivered = (marks: string[] = []): LedgerEntry => ({ activityId: '1700000000001', revision: 1, marks: new Set(marks), chat: undefined, laterActivityIds: [] });

function notification(state: NotificationRecord['state'] = 'completed'): NotificationRecord {
  return {
    id: 'drill-1',
    fingerprint: 'f',
    request: { activity: { type: 'message', text: 'Fire drill at 10:00' }, acknowledge: { label: 'Got it' } },
    state,
    createdAt: new Date('2026-12-07T08:00:00Z'),
    revision: 1,
    etag: '*',
  } as NotificationRecord;
}

async function setup(state: NotificationRecord['state'] = 'completed') {
  const acknowledgements = new MemoryAcknowledgementStore();
  const sent: { conversation: StoredConversation; activity: Partial<Activity> }[] = [];
  const deps = {
    acknowledgements,
    activities: { send: async (to: StoredConversation, activity: Partial<Activity>) => void sent.push({ conversation: to, activity }) },
  } as unknown as QueuedDependencies;
  const press = (chat: StoredConversation, conversationId = chat.conversationId) =>
    acknowledgements.acknowledge({
      notificationId: 'drill-1',
      person: { tenantId: chat.tenantId, channelId: chat.channelId, userId: chat.userId, aadObjectId: chat.aadObjectId },
      conversation: { channelId: chat.channelId, conversationId },
      at: new Date(),
      offsetMinutes: undefined,
    });
  return { deps, sent, press, plan: () => remindPlan(deps, notification(state), pass) };
}

describe('reminders', () => {
  it('leaves out the chats where someone acknowledged, and a person who acknowledged in another chat', async () => {
    const ada = conversation('a:ada', { aadObjectId: 'aad-ada', userId: '29:ada' });
    const bob = conversation('a:bob', { aadObjectId: 'aad-bob', userId: '29:bob' });
    const cy = conversation('a:cy', { aadObjectId: 'aad-cy', userId: '29:cy' });
    const channel = conversation('19:channel', { aadObjectId: 'aad-dee', userId: '29:dee', conversationType: 'channel' });
    const { press, plan } = await setup();
    await press(ada);
    await press(bob, '19:group-chat-of-bob');
    const planned = await plan();
    assert.equal(planned.kind, 'act');
    const action = planned.kind === 'act' ? planned.action : undefined;
    assert.deepEqual([ada, bob, cy, channel].map((chat) => action?.needs(delivered(), chat)), [false, false, true, true]);
  });

  it('reminds a chat once per reminder, never a recalled one, and a second reminder is a new one', async () => {
    const cy = conversation('a:cy');
    const planned = await (await setup()).plan();
    assert.ok(planned.kind === 'act');
    assert.equal(planned.action.needs(delivered([pass]), cy), false, 'already reminded by this reminder');
    assert.equal(planned.action.needs(delivered(['recalled']), cy), false);
    assert.equal(planned.action.needs(delivered([remindPass('first-call')]), cy), true, 'an earlier reminder does not count for this one');
    assert.deepEqual(planned.action.mark, { name: pass });
  });

  it('sends the message as it reads now, with the acknowledge button naming the notification', async () => {
    const { plan, sent } = await setup();
    const planned = await plan();
    assert.ok(planned.kind === 'act');
    await planned.action.act(conversation('a:cy'), { ...delivered(), activityId: '1700000000001' }, undefined);
    assert.equal(sent[0]?.activity.text, 'Fire drill at 10:00');
    const card = sent[0]?.activity.attachments?.[0]?.content as { actions: { title: string; data: { notificationId: string } }[] };
    assert.deepEqual(card.actions.map((action) => [action.title, action.data.notificationId]), [['Got it', 'drill-1']]);
  });

  it('a recalled notification is reminded nowhere', async () => {
    const planned = await (await setup('recalled' as NotificationRecord['state'])).plan();
    assert.equal(planned.kind, 'end');
  });

  it('names its pass after the reminder id, and tells its own passes from others', () => {
    assert.equal(reminderOfPass(remindPass('second-call')), 'second-call');
    assert.equal(reminderOfPass('revision-2'), undefined);
    assert.equal(reminderOfPass('recall'), undefined);
  });

  describe('the request body', () => {
    it('is optional: nothing or {} is a new reminder; an id names it', () => {
      assert.deepEqual(parseRemindRequest(''), { ok: true, value: {} });
      assert.deepEqual(parseRemindRequest('{}'), { ok: true, value: {} });
      assert.deepEqual(parseRemindRequest('{"id":"second-call"}'), { ok: true, value: { reminderId: 'second-call' } });
    });

    for (const [body, named] of [
      ['{"id":"not an id!"}', '"id"'],
      ['{"text":"come on"}', '"text"'],
      ['[1]', 'JSON object'],
      ['{nope', 'not valid JSON'],
    ] as const) {
      it(`refuses ${body}, naming ${named}`, () => {
        const parsed = parseRemindRequest(body);
        assert.ok(!parsed.ok && parsed.errors.some((error) => error.includes(named)), JSON.stringify(parsed));
      });
    }
  });
});
