import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Activity } from 'botbuilder';
import { MemoryAcknowledgementStore } from '../../shared/engagement/memoryAcknowledgementStore';
import type { LedgerEntry } from '../../shared/ledgers/deliveryLedgers';
import type { NotificationRecord } from '../../shared/queued/notificationTable';
import { passPlanFor, revisionPass } from '../../shared/queued/passActions';
import type { PassAction } from '../../shared/queued/ledgerPass';
import type { QueuedDependencies } from '../../shared/queued/workContext';
import type { StoredConversation } from '../../shared/storage/conversationStore';
import { channelError } from '../support/channelErrors';
import { conversation } from '../support/conversationStoreContract';

/** The edit's action on one chat (passActions.ts), with the channel played by a list of PUTs. */

const delivered = (laterActivityIds: string[] = []): LedgerEntry => ({ activityId: 'm-1', revision: 1, marks: new Set(), chat: undefined, laterActivityIds });

interface Card {
  readonly body?: readonly { readonly text?: string }[];
  readonly actions?: readonly { readonly type: string; readonly title: string }[];
}

function notification(request: NotificationRecord['request']): NotificationRecord {
  return { id: 'drill-1', fingerprint: 'f', request, state: 'completed', createdAt: new Date('2026-12-07T08:00:00Z'), revision: 2, etag: '*' } as NotificationRecord;
}

const acknowledging = notification({ activity: { type: 'message', text: 'Fire drill moved to 11:00' }, acknowledge: { label: 'Got it' } });

function setup(refuse: (activityId: string) => Error | undefined = () => undefined) {
  const acknowledgements = new MemoryAcknowledgementStore();
  const puts: { conversationId: string; activityId: string; activity: Partial<Activity> }[] = [];
  const deps = {
    acknowledgements,
    activities: {
      update: async (to: StoredConversation, activityId: string, activity: Partial<Activity>) => {
        const refusal = refuse(activityId);
        if (refusal !== undefined) throw refusal;
        puts.push({ conversationId: to.conversationId, activityId, activity });
      },
    },
  } as unknown as QueuedDependencies;
  const press = (chat: StoredConversation, at: string, offsetMinutes: number | undefined, conversationId = chat.conversationId) =>
    acknowledgements.acknowledge({
      notificationId: 'drill-1',
      person: { tenantId: chat.tenantId, channelId: chat.channelId, userId: chat.userId, aadObjectId: chat.aadObjectId },
      conversation: { channelId: chat.channelId, conversationId },
      at: new Date(at),
      offsetMinutes,
    });
  const action = async (of: NotificationRecord = acknowledging): Promise<PassAction> => {
    const plan = await passPlanFor(deps, of, revisionPass(2));
    assert.ok(plan.kind === 'act');
    return plan.action;
  };
  return { puts, press, action };
}

function cardOf(activity: Partial<Activity> | undefined): Card | undefined {
  return activity?.attachments?.[0]?.content as Card | undefined;
}

const shows = (activity: Partial<Activity> | undefined): string[] => [activity?.text ?? '', ...(cardOf(activity)?.body ?? []).map((block) => block.text ?? ''), ...(cardOf(activity)?.actions ?? []).map((action) => `[${action.title}]`)];

describe('an edit of a delivered chat', () => {
  it('replaces the delivered message and every reminder sent there with the new one', async () => {
    const { puts, action } = setup();
    await (await action()).act(conversation('a:ada'), delivered(['r-1', 'r-2']), undefined);
    assert.deepEqual(puts.map((put) => put.activityId), ['m-1', 'r-1', 'r-2']);
    assert.ok(puts.every((put) => put.activity.text === 'Fire drill moved to 11:00'));
  });

  it('skips a reminder the chat no longer holds, but not a delivered message it no longer holds', async () => {
    const gone = channelError(404, 'NotFound');
    const skipping = setup((id) => (id === 'r-1' ? gone : undefined));
    await (await skipping.action()).act(conversation('a:ada'), delivered(['r-1', 'r-2']), undefined);
    assert.deepEqual(skipping.puts.map((put) => put.activityId), ['m-1', 'r-2']);

    const failing = setup((id) => (id === 'm-1' ? gone : undefined));
    await assert.rejects((await failing.action()).act(conversation('a:ada'), delivered(['r-1']), undefined));
  });

  it('on a retry of a chat, does not replace again what the first attempt replaced', async () => {
    let refusals = 1;
    const { puts, action } = setup((id) => (id === 'r-2' && refusals-- > 0 ? channelError(503) : undefined));
    const edit = await action();
    await assert.rejects(edit.act(conversation('a:ada'), delivered(['r-1', 'r-2']), undefined));
    await edit.act(conversation('a:ada'), delivered(['r-1', 'r-2']), undefined);
    assert.deepEqual(puts.map((put) => put.activityId), ['m-1', 'r-1', 'r-2']);
  });

  it('shows the person of a personal chat who acknowledged the new message with their acknowledgement instead of the button, in UTC when no offset is known', async () => {
    const ada = conversation('a:ada', { aadObjectId: 'aad-ada', userId: '29:ada' });
    const bob = conversation('a:bob', { aadObjectId: 'aad-bob', userId: '29:bob' });
    const cy = conversation('a:cy', { aadObjectId: 'aad-cy', userId: '29:cy' });
    const { puts, press, action } = setup();
    await press(ada, '2026-12-07T09:14:00Z', undefined);
    // Bob pressed in the team's channel: his own chat shows it too, the channel keeps the button.
    await press(bob, '2026-12-07T09:20:00Z', 60, '19:floor@thread.tacv2');
    const channel = conversation('19:floor@thread.tacv2', { aadObjectId: 'aad-bob', userId: '29:bob', conversationType: 'channel' });
    const edit = await action();
    for (const chat of [ada, bob, cy, channel]) await edit.act(chat, delivered(chat === ada ? ['r-1'] : []), undefined);

    const byChat = (id: string) => puts.filter((put) => put.conversationId === id).map((put) => shows(put.activity));
    const acknowledgedDay = (text: string) => text.replace(/^Acknowledged on 2026-12-07 at/, 'Acknowledged at');
    assert.deepEqual(byChat('a:ada').map((lines) => lines.map(acknowledgedDay)), [
      ['Fire drill moved to 11:00', 'Acknowledged at 09:14 UTC'],
      ['Fire drill moved to 11:00', 'Acknowledged at 09:14 UTC'],
    ]);
    assert.deepEqual(byChat('a:bob').map((lines) => lines.map(acknowledgedDay)), [['Fire drill moved to 11:00', 'Acknowledged at 10:20']]);
    assert.deepEqual(byChat('a:cy'), [['Fire drill moved to 11:00', '[Got it]']]);
    assert.deepEqual(byChat('19:floor@thread.tacv2'), [['Fire drill moved to 11:00', '[Got it]']], 'a channel is shared: it keeps the button');
  });

  it('keeps the new card of someone who acknowledged, without the button, with their acknowledgement below it', async () => {
    const ada = conversation('a:ada', { aadObjectId: 'aad-ada', userId: '29:ada' });
    const card = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'Drill at 11:00' }], actions: [{ type: 'Action.OpenUrl', title: 'Map', url: 'https://example.com' }] };
    const { puts, press, action } = setup();
    await press(ada, '2026-12-07T09:14:00Z', 0);
    await (await action(notification({ activity: { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] }, acknowledge: { label: 'Got it' } }))).act(ada, delivered(), undefined);
    const sent = cardOf(puts[0]?.activity);
    assert.equal(sent?.body?.[0]?.text, 'Drill at 11:00');
    assert.match(sent?.body?.[1]?.text ?? '', /^Acknowledged (on 2026-12-07 )?at 09:14$/);
    assert.deepEqual(sent?.actions?.map((button) => button.title), ['Map']);
    assert.equal(puts[0]?.activity.attachments?.length, 1);
  });

  it('of a notification that does not ask for acknowledgements reads none and puts the message as is', async () => {
    const { puts, action } = setup();
    const plain = notification({ activity: { type: 'message', text: 'Moved to 11:00' } });
    await (await action(plain)).act(conversation('a:ada'), delivered(), undefined);
    assert.deepEqual(puts.map((put) => put.activity), [plain.request.activity]);
  });
});
