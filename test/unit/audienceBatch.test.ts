import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PersonConversations } from '../../shared/audience/personConversations';
import { MemoryPersonIndex } from '../../shared/audience/personIndex';
import type { PersonRecipient, PlannedRecipient, UnreachedRecipient } from '../../shared/audience/plannedRecipient';
import { realClock } from '../../shared/clock';
import { BroadcastEngine } from '../../shared/delivery/broadcast';
import type { BroadcastRequest } from '../../shared/delivery/broadcastTypes';
import type { SendActivity } from '../../shared/delivery/proactiveSender';
import { RateLimiter } from '../../shared/delivery/rateLimiter';
import { channelError } from '../support/channelErrors';
import { recordingLogger } from '../support/recordingLogger';
import { MemoryDeliveryLedgers } from '../../shared/ledgers/memoryDeliveryLedgers';
import { sendAudienceBatch } from '../../shared/queued/audienceBatch';
import type { NotificationRecord } from '../../shared/queued/notificationTable';
import type { QueuedDependencies } from '../../shared/queued/workContext';
import type { ConversationStore } from '../../shared/storage/conversationStore';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { conversation } from '../support/conversationStoreContract';
import { ReachDoubles } from '../support/reachDoubles';

const tenant = 'tenant-1';

/** The real engine over each batch; the channel refuses the conversations in `refusing` with 403 MessageWritesBlocked. */
function setup(options: { installForUsers?: boolean; refusing?: ReadonlySet<string> } = {}) {
  const doubles = new ReachDoubles();
  const store = new MemoryConversationStore();
  const sentTo: string[] = [];
  const ledgers = new MemoryDeliveryLedgers();
  const conversations = new PersonConversations({
    index: new MemoryPersonIndex(),
    connector: doubles,
    directory: doubles,
    store,
    installForUsers: options.installForUsers ?? false,
    botId: 'bot-1',
  });
  const send: SendActivity = async (conversation) => {
    if (options.refusing?.has(conversation.conversationId) === true) throw channelError(403, 'MessageWritesBlocked');
    sentTo.push(conversation.conversationId);
  };
  const deps = {
    ledgers,
    store,
    engineFor: (recipients: ConversationStore) => {
      const engine = new BroadcastEngine({
        store: recipients,
        send,
        rateLimiter: new RateLimiter({ tenantPerSecond: 1_000, conversationPerSecond: 1_000 }, realClock, { warmupMs: 0 }),
        clock: realClock,
        settings: { concurrency: 8, maxAttempts: 1, deadlineSeconds: 60 },
        logger: recordingLogger(),
        personalConversations: conversations,
        tuning: { maxReportedFailures: Number.POSITIVE_INFINITY },
      });
      return (request: BroadcastRequest) => engine.broadcast(request);
    },
    tuning: { sliceMs: 1_000, ledgerGroupMs: 0 },
    reach: { conversations },
  } as unknown as QueuedDependencies;
  const notification = { id: 'n1', request: { activity: { type: 'message', text: 'Hi' } } } as unknown as NotificationRecord;
  const sendBatch = (recipients: readonly PlannedRecipient[], redo = false) =>
    sendAudienceBatch(deps, notification, tenant, recipients.map((recipient, index) => ({ rowKey: String(index), recipient })), { redo, signal: new AbortController().signal, optOuts: undefined });
  return { doubles, store, sentTo, send: sendBatch };
}

const person = (aadObjectId: string): PersonRecipient => ({ kind: 'person', tenantId: tenant, aadObjectId, memberId: `29:${aadObjectId}` });
const unreached = (reason: UnreachedRecipient['reason'], subject: string): UnreachedRecipient => ({ kind: 'unreached', tenantId: tenant, reason, subject, message: `${subject}: ${reason}` });

describe('delivering a batch of a planned audience', () => {
  it('counts everyone not reached by reason, lists them in the failures, and does not count them as failed', async () => {
    const { doubles, sentTo, send } = setup({ refusing: new Set(['a:aad-blocks-sends']) });
    for (const id of ['aad-reached', 'aad-blocks-sends']) doubles.person({ aadObjectId: id });
    doubles.person({ aadObjectId: 'aad-no-app', withoutApp: true });
    doubles.person({ aadObjectId: 'aad-blocked', blocked: true });
    const summary = await send([
      conversation('19:channel@thread.tacv2', { tenantId: tenant, conversationType: 'channel' }),
      person('aad-reached'),
      person('aad-no-app'),
      person('aad-blocked'),
      person('aad-blocks-sends'),
      person('aad-gone'),
      unreached('notFound', 'nobody@contoso.com'),
      unreached('guest', 'guest@fabrikam.com'),
    ]);
    assert.deepEqual(sentTo.sort(), ['19:channel@thread.tacv2', 'a:aad-reached']);
    assert.deepEqual(summary.unreached, { notFound: 2, guest: 1, notInstalled: 1, blocked: 2 });
    assert.equal(summary.sent, 2);
    assert.equal(summary.failed, 0);
    assert.equal(summary.matched, 8);
    assert.deepEqual(
      summary.failures.map((failure) => [failure.code, failure.conversationId]).sort(),
      [
        ['blocked', 'person:aad-blocked'],
        ['blocked', 'person:aad-blocks-sends'],
        ['guest', 'guest@fabrikam.com'],
        ['notFound', 'nobody@contoso.com'],
        ['notFound', 'person:aad-gone'],
        ['notInstalled', 'person:aad-no-app'],
      ],
    );
  });

  it('installs the app for people without it when allowed, sends in the chat Graph gives, and stores that chat', async () => {
    const { doubles, store, sentTo, send } = setup({ installForUsers: true });
    doubles.person({ aadObjectId: 'aad-no-app', withoutApp: true });
    const summary = await send([person('aad-no-app')]);
    assert.equal(summary.sent, 1);
    assert.equal(summary.unreached.notInstalled, 0);
    assert.deepEqual(sentTo, ['a:aad-no-app']);
    assert.equal(doubles.counts.installs, 1);
    assert.equal((await store.get({ channelId: 'msteams', conversationId: 'a:aad-no-app', tenantId: tenant }))?.aadObjectId, 'aad-no-app');
  });

  it('reuses a conversation it opened before: the next notification creates none', async () => {
    const { doubles, send } = setup();
    doubles.person({ aadObjectId: 'aad-1' });
    await send([person('aad-1')]);
    assert.equal(doubles.counts.creates, 1);
    const again = await send([person('aad-1')]);
    assert.equal(again.sent, 1);
    assert.equal(doubles.counts.creates, 1, 'found in the person index');
  });

  it('skips people a redone batch already delivered to, by their Entra id, without opening their chat again', async () => {
    const { doubles, sentTo, send } = setup();
    for (const id of ['aad-1', 'aad-2']) doubles.person({ aadObjectId: id });
    await send([person('aad-1')]);
    const creates = doubles.counts.creates;
    const redo = await send([person('aad-1'), person('aad-2')], true);
    assert.equal(redo.alreadySent, 1);
    assert.equal(redo.sent, 1);
    assert.deepEqual(sentTo, ['a:aad-1', 'a:aad-2']);
    assert.equal(doubles.counts.creates, creates + 1, 'only the person not yet reached');
  });
});
