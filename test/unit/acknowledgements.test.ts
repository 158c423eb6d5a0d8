import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TestAdapter, type Activity } from 'botbuilder';
import { NotificationBot, cardActionReceivedText } from '../../shared/bot/bot';
import { notAcknowledgeableText, recalledAcknowledgementText, tryAgainText } from '../../shared/bot/botTexts';
import { acknowledgeTargetOf } from '../../shared/queued/acknowledgeTargetOf';
import { NotificationTableUnavailableError, type NotificationRecord, type NotificationState } from '../../shared/queued/notificationTable';
import { acknowledgedText, localOffsetMinutes, withAcknowledgeButton } from '../../shared/engagement/acknowledgementCard';
import { MemoryAcknowledgementStore } from '../../shared/engagement/memoryAcknowledgementStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { messageActivity, parseNotificationRequest } from '../../shared/notifications/notificationRequest';
import { sentActivity } from '../../shared/notifications/sentActivity';
import { recordingLogger } from '../support/recordingLogger';

const limits = { maxMessageBytes: 100_000 };
const bot = { id: '28:bot-app-id', name: 'Notifier' };
const ada = { id: '29:ada', name: 'Ada', aadObjectId: '00000000-0000-0000-0000-0000000000a1' };
const chat = { id: 'a:1personal-chat', conversationType: 'personal', tenantId: 'tenant-1', isGroup: false, name: '' };

interface Card {
  readonly version?: string;
  readonly body?: readonly { readonly text?: string }[];
  readonly actions?: readonly { readonly type: string; readonly title: string; readonly verb?: string; readonly data?: { readonly notificationId?: string } }[];
}

function cardsOf(activity: Partial<Activity>): Card[] {
  return (activity.attachments ?? []).map((attachment) => attachment.content as Card);
}

function pressButton(notificationId: string, extra: Partial<Activity> = {}): Partial<Activity> {
  return {
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb: 'acknowledge', data: { notificationId } }, trigger: 'manual' },
    ...extra,
  };
}

/** A queued notification's status row as the bot reads it. */
function statusRow(id: string, options: { readonly acknowledge?: boolean; readonly state?: NotificationState; readonly card?: Record<string, unknown> } = {}): NotificationRecord {
  const activity = options.card === undefined ? messageActivity('Fire drill at 10:00', undefined) : messageActivity(undefined, options.card);
  return {
    id,
    fingerprint: 'f',
    request: { activity, ...(options.acknowledge === false ? {} : { acknowledge: { label: 'Got it' } }) },
    revision: 1,
    state: options.state ?? 'completed',
    createdAt: new Date('2026-12-07T08:00:00Z'),
    etag: '*',
  };
}

const drill = statusRow('drill-1');

function setup(options: {
  readonly now: () => Date;
  readonly notifications?: readonly NotificationRecord[];
  readonly statusUnreadable?: boolean;
  readonly user?: typeof ada;
  readonly acknowledgements?: MemoryAcknowledgementStore;
}) {
  const acknowledgements = options.acknowledgements ?? new MemoryAcknowledgementStore();
  const logger = recordingLogger();
  const notifications = new Map((options.notifications ?? [drill]).map((row) => [row.id, row]));
  const notificationBot = new NotificationBot(new MemoryConversationStore(), logger, {
    acknowledgements,
    now: options.now,
    acknowledgeTarget: async (id) => {
      if (options.statusUnreadable === true) throw new NotificationTableUnavailableError('get', new Error('503 ServerBusy'));
      return acknowledgeTargetOf(notifications.get(id));
    },
  });
  const adapter = new TestAdapter(async (context) => notificationBot.run(context));
  adapter.conversation = { channelId: 'msteams', serviceUrl: 'https://smba.example/', conversation: chat, user: options.user ?? ada, bot };
  /** The invoke's answer as Teams gets it: the HTTP status and the body. */
  const press = async (activity: Partial<Activity>): Promise<{ status: number; body: { statusCode: number; type: string; value: Card & { message?: string } } }> => {
    await adapter.processActivity(activity);
    const answers = adapter.activeQueue.splice(0).filter((sent) => sent.type === 'invokeResponse');
    assert.equal(answers.length, 1, 'every invoke gets exactly one answer');
    return answers[0]?.value as never;
  };
  return { acknowledgements, press, logger };
}

describe('acknowledgements', () => {
  describe('the button', () => {
    it('a text notification that asks for acknowledgements is one activity: the text and a small card with an Action.Execute button labelled as asked', () => {
      const parsed = parseNotificationRequest(JSON.stringify({ text: 'Fire drill at 10:00', acknowledge: { label: 'Got it' } }), limits, { queued: true });
      assert.ok(parsed.ok);
      const activity = sentActivity(parsed.value, 'drill-1');
      assert.equal(activity.text, 'Fire drill at 10:00');
      const [card, ...others] = cardsOf(activity);
      assert.equal(others.length, 0);
      assert.equal(card?.version, '1.5');
      assert.deepEqual(card?.actions, [{ type: 'Action.Execute', title: 'Got it', verb: 'acknowledge', data: { notificationId: 'drill-1' } }]);
    });

    it("a notification with its own card gets the button added to that card's actions, its body kept and its version raised to 1.5", () => {
      const own = { type: 'AdaptiveCard', version: '1.2', body: [{ type: 'TextBlock', text: 'Policy update' }], actions: [{ type: 'Action.OpenUrl', title: 'Read', url: 'https://example.com' }] };
      const activity = withAcknowledgeButton(messageActivity(undefined, own), 'policy-7', { label: 'I have read it' });
      const [card] = cardsOf(activity);
      assert.equal(card?.version, '1.5');
      assert.deepEqual(card?.body, own.body);
      assert.deepEqual(card?.actions?.map((action) => [action.type, action.title]), [['Action.OpenUrl', 'Read'], ['Action.Execute', 'I have read it']]);
      assert.equal(own.actions.length, 1, "the request's own card is not changed in place");
    });

    it('a notification that does not ask for acknowledgements is sent as it was given', () => {
      const parsed = parseNotificationRequest(JSON.stringify({ text: 'Hello' }), limits);
      assert.ok(parsed.ok);
      assert.deepEqual(sentActivity(parsed.value, 'n-1'), { type: 'message', text: 'Hello' });
    });

    for (const [body, field] of [
      [{ text: 'x', acknowledge: { label: '   ' } }, 'acknowledge.label'],
      [{ text: 'x', acknowledge: { label: 'x'.repeat(41) } }, 'acknowledge.label'],
      [{ text: 'x', acknowledge: {} }, 'acknowledge.label'],
      [{ text: 'x', acknowledge: 'yes' }, 'acknowledge'],
      [{ text: 'x', acknowledge: { label: 'OK', colour: 'red' } }, 'acknowledge.colour'],
    ] as const) {
      it(`refuses ${JSON.stringify(body.acknowledge)} naming "${field}"`, () => {
        const parsed = parseNotificationRequest(JSON.stringify(body), limits, { queued: true });
        assert.equal(parsed.ok, false);
        assert.ok(!parsed.ok && parsed.errors.some((error) => error.includes(`"${field}"`)), JSON.stringify(parsed));
      });
    }

    it('is refused by POST /api/notify, which keeps no status to count presses in, pointing to queued notifications', () => {
      const parsed = parseNotificationRequest(JSON.stringify({ text: 'Fire drill at 10:00', acknowledge: { label: 'Got it' } }), limits);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.errors.join(' '), /"acknowledge" is accepted by queued notifications, POST \/api\/notifications/);
    });
  });

  describe('the press', () => {
    it('is recorded and answered with the card refreshed to "Acknowledged at" the time in the person\'s own offset', async () => {
      const now = new Date('2026-12-07T08:14:30Z');
      const { acknowledgements, press } = setup({ now: () => now });
      const answer = await press(pressButton('drill-1', { localTimestamp: '2026-12-07T09:14:30.000+01:00' as never }));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.statusCode, 200);
      assert.equal(answer.body.type, 'application/vnd.microsoft.card.adaptive');
      assert.deepEqual(answer.body.value.body?.map((block) => block.text), ['Acknowledged at 09:14']);
      assert.equal(answer.body.value.actions, undefined, 'the button is gone from the refreshed card');
      assert.equal(await acknowledgements.count('drill-1'), 1);
    });

    it('a second press changes nothing: still one acknowledgement, and the same time shown', async () => {
      let now = new Date('2026-12-07T08:14:00Z');
      const { acknowledgements, press } = setup({ now: () => now });
      const first = await press(pressButton('drill-1', { localTimestamp: '2026-12-07T09:14:00+01:00' as never }));
      now = new Date('2026-12-07T08:52:00Z');
      const second = await press(pressButton('drill-1', { localTimestamp: '2026-12-07T09:52:00+01:00' as never }));
      assert.deepEqual(second.body, first.body);
      assert.equal(await acknowledgements.count('drill-1'), 1);
      assert.equal((await acknowledgements.list('drill-1'))[0]?.acknowledgedAt.toISOString(), '2026-12-07T08:14:00.000Z');
    });

    it('without a local time from the channel, the time is shown in UTC and says so', async () => {
      const { press } = setup({ now: () => new Date('2026-12-07T08:14:00Z') });
      const answer = await press(pressButton('drill-1'));
      assert.deepEqual(answer.body.value.body?.map((block) => block.text), ['Acknowledged at 08:14 UTC']);
    });

    it("the refreshed card of a notification sent with its own card shows that card again, without the button, and the time under it", async () => {
      const ownCard = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Policy update' }] };
      const { press } = setup({ now: () => new Date('2026-12-07T08:14:00Z'), notifications: [statusRow('policy-7', { card: ownCard })] });
      const answer = await press(pressButton('policy-7', { localTimestamp: '2026-12-07T08:14:00Z' as never }));
      assert.deepEqual(answer.body.value.body?.map((block) => block.text), ['Policy update', 'Acknowledged at 08:14']);
    });

    it('two people pressing are two acknowledgements', async () => {
      const now = (): Date => new Date('2026-12-07T08:14:00Z');
      const first = setup({ now });
      await first.press(pressButton('drill-1'));
      const second = setup({ now, user: { ...ada, id: '29:bob', aadObjectId: '00000000-0000-0000-0000-0000000000b2' }, acknowledgements: first.acknowledgements });
      await second.press(pressButton('drill-1'));
      assert.equal(await first.acknowledgements.count('drill-1'), 2);
    });

    it('a press naming a notification that does not exist records nothing and tells the person the message does not collect acknowledgements', async () => {
      const { press, acknowledgements } = setup({ now: () => new Date('2026-12-07T08:14:00Z') });
      const answer = await press(pressButton('made-up-id'));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.statusCode, 200);
      assert.deepEqual(answer.body.value.body?.map((block) => block.text), [notAcknowledgeableText]);
      assert.equal(answer.body.value.actions, undefined);
      assert.equal(await acknowledgements.count('made-up-id'), 0);
    });

    it('a press naming a notification that did not ask for acknowledgements records nothing and gets the same plain answer', async () => {
      const { press, acknowledgements } = setup({ now: () => new Date('2026-12-07T08:14:00Z'), notifications: [statusRow('news-1', { acknowledge: false })] });
      const answer = await press(pressButton('news-1'));
      assert.deepEqual(answer.body.value.body?.map((block) => block.text), [notAcknowledgeableText]);
      assert.equal(await acknowledgements.count('news-1'), 0);
    });

    it('a press after the sender recalled the notification records nothing and tells the person it was withdrawn', async () => {
      const { press, acknowledgements } = setup({ now: () => new Date('2026-12-07T08:14:00Z'), notifications: [statusRow('drill-2', { state: 'recalled' })] });
      const answer = await press(pressButton('drill-2'));
      assert.deepEqual(answer.body.value.body?.map((block) => block.text), [recalledAcknowledgementText]);
      assert.equal(await acknowledgements.count('drill-2'), 0);
    });

    it('when the notification cannot be read just now, the press is not recorded and Teams is told to let the person try again', async () => {
      const { press, acknowledgements } = setup({ now: () => new Date('2026-12-07T08:14:00Z'), statusUnreadable: true });
      const answer = await press(pressButton('drill-1'));
      assert.equal(answer.body.statusCode, 503);
      assert.equal(answer.body.value.message, tryAgainText);
      assert.equal(await acknowledgements.count('drill-1'), 0);
    });

    it('what the person reads about a press not recorded names no endpoint, setting or id', () => {
      for (const text of [notAcknowledgeableText, recalledAcknowledgementText]) assert.doesNotMatch(text, /\/api|NOTIF|notification id|_/i);
    });

    it('any other card action is still answered, so Teams shows no error', async () => {
      const { press, acknowledgements } = setup({ now: () => new Date() });
      const answer = await press({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'vote', data: {} }, trigger: 'manual' } });
      assert.equal(answer.body.statusCode, 200);
      assert.equal(answer.body.value.body?.[0]?.text, cardActionReceivedText);
      assert.equal(await acknowledgements.count(''), 0);
    });
  });

  describe('the time shown', () => {
    it('reads the offset of the local timestamp as sent, in minutes east of UTC', () => {
      assert.equal(localOffsetMinutes({ rawLocalTimestamp: '2026-12-07T09:14:00.000+05:30' }), 330);
      assert.equal(localOffsetMinutes({ rawLocalTimestamp: '2026-12-07T03:14:00-08:00' }), -480);
      assert.equal(localOffsetMinutes({ rawLocalTimestamp: '2026-12-07T09:14:00Z' }), 0);
      assert.equal(localOffsetMinutes({}), undefined);
    });

    it('names the date when the press was not today where the person is', () => {
      assert.equal(acknowledgedText(new Date('2026-12-06T23:30:00Z'), 60, new Date('2026-12-08T09:00:00Z')), 'Acknowledged on 2026-12-07 at 00:30');
    });
  });
});
