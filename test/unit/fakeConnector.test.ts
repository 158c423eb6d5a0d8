import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { startFakeConnector, type FakeConnector, type FakeConnectorOptions } from '../../scripts/fakeConnector';

const teamsChannelId = '19:abc@thread.tacv2;messageid=1690000000000';
const personalId = 'a:1xyz';

interface Reply {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: unknown;
}

let running: FakeConnector[] = [];

async function start(options: FakeConnectorOptions = {}): Promise<FakeConnector> {
  const connector = await startFakeConnector(options);
  running.push(connector);
  return connector;
}

afterEach(async () => {
  await Promise.all(running.map((connector) => connector.stop()));
  running = [];
});

function activity(text: string, tenantId = 'tenant-a'): Record<string, unknown> {
  return { type: 'message', text, conversation: { tenantId } };
}

async function send(
  connector: FakeConnector,
  conversationId: string,
  body: unknown,
  init: { readonly path?: string; readonly headers?: Record<string, string> } = {},
): Promise<Reply> {
  const path = init.path ?? `v3/conversations/${encodeURIComponent(conversationId)}/activities`;
  const response = await fetch(new URL(path, connector.serviceUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 0;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('fake Bot Connector', () => {
  it('accepts a send to a URL-encoded Teams conversation id and answers 201 with a new activity id', async () => {
    const connector = await start();

    const first = await send(connector, teamsChannelId, activity('hello channel'));
    const second = await send(connector, personalId, activity('hello person'));

    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.match(JSON.stringify(first.body), /^\{"id":"[^"]+"\}$/);
    assert.notDeepEqual(first.body, second.body);
    assert.deepEqual(
      connector.received.map((r) => [r.conversationId, r.text, r.tenantId, r.attempt]),
      [
        [teamsChannelId, 'hello channel', 'tenant-a', 1],
        [personalId, 'hello person', 'tenant-a', 1],
      ],
    );
    assert.equal(connector.deliveredCount(teamsChannelId), 1);
  });

  it('records the replied-to activity id from the reply route', async () => {
    const connector = await start();
    const path = `v3/conversations/${encodeURIComponent(teamsChannelId)}/activities/${encodeURIComponent('1690000000000')}`;

    const reply = await send(connector, teamsChannelId, activity('a reply'), { path });

    assert.equal(reply.status, 201);
    assert.equal(connector.received[0]?.replyToId, '1690000000000');
    assert.equal(connector.received[0]?.conversationId, teamsChannelId);
  });

  it('reads the tenant from conversation.tenantId, then channelData.tenant.id, else calls it unknown', async () => {
    const connector = await start();

    await send(connector, 'c1', { type: 'message', conversation: { tenantId: 't-conv' }, channelData: { tenant: { id: 't-data' } } });
    await send(connector, 'c2', { type: 'message', channelData: { tenant: { id: 't-data' } } });
    await send(connector, 'c3', { type: 'message' });

    assert.deepEqual(connector.received.map((r) => r.tenantId), ['t-conv', 't-data', 'unknown']);
  });

  it('answers 404 NotFound to unknown routes and to other methods', async () => {
    const connector = await start();

    const unknown = await send(connector, 'c', activity('x'), { path: 'v3/conversations/c/members' });
    const get = await fetch(new URL('v3/conversations/c/activities', connector.serviceUrl));

    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { error: { code: string } }).error.code, 'NotFound');
    assert.equal(get.status, 404);
    await get.body?.cancel();
    assert.equal(connector.received.length, 0);
  });

  it('answers 400 BadArgument with a Bot Framework error body to malformed JSON', async () => {
    const connector = await start();

    const reply = await send(connector, personalId, '{"type": "message",');

    assert.equal(reply.status, 400);
    assert.deepEqual(Object.keys((reply.body as { error: object }).error).sort(), ['code', 'message']);
    assert.equal((reply.body as { error: { code: string } }).error.code, 'BadArgument');
    assert.equal(connector.received.length, 0);
  });

  it('answers 413 MessageSizeTooBig when the JSON text is over 100 KB counted as UTF-16', async () => {
    const connector = await start();

    const big = await send(connector, personalId, activity('x'.repeat(51_200)));
    const fits = await send(connector, personalId, activity('x'.repeat(50_000)));

    assert.equal(big.status, 413);
    assert.equal((big.body as { error: { code: string } }).error.code, 'MessageSizeTooBig');
    assert.equal(fits.status, 201);
    assert.equal(connector.received.length, 1);
  });

  it('throttles a tenant over its per-second limit with 429 and Retry-After, and accepts again once the window has passed', async () => {
    const clock = manualClock();
    const connector = await start({ throttle: { perTenantPerSecond: 3 }, clock: clock.now });

    const statuses: number[] = [];
    for (const id of ['c1', 'c2', 'c3', 'c4']) statuses.push((await send(connector, id, activity(id))).status);
    clock.advance(999);
    const stillThrottled = await send(connector, 'c5', activity('c5'));
    clock.advance(1);
    const afterWindow = await send(connector, 'c6', activity('c6'));
    const otherTenant = await send(connector, 'c7', activity('c7', 'tenant-b'));

    assert.deepEqual(statuses, [201, 201, 201, 429]);
    assert.equal(stillThrottled.status, 429);
    assert.equal(stillThrottled.retryAfter, '1');
    assert.equal((stillThrottled.body as { error: { code: string } }).error.code, 'Throttled');
    assert.equal(afterWindow.status, 201);
    assert.equal(otherTenant.status, 201);
    assert.deepEqual(connector.received.map((r) => r.conversationId), ['c1', 'c2', 'c3', 'c6', 'c7']);
    assert.equal(connector.throttled, 2);
  });

  it('does not count throttled requests toward the window', async () => {
    const clock = manualClock();
    const connector = await start({ throttle: { perTenantPerSecond: 2, retryAfterSeconds: 2 }, clock: clock.now });

    await send(connector, 'c', activity('1'));
    await send(connector, 'c', activity('2'));
    clock.advance(500);
    const throttled = await send(connector, 'c', activity('3'));
    clock.advance(500);
    const afterWindow = [await send(connector, 'c', activity('4')), await send(connector, 'c', activity('5'))];
    const overAgain = await send(connector, 'c', activity('6'));

    assert.equal(throttled.status, 429);
    assert.equal(throttled.retryAfter, '2');
    assert.deepEqual(afterWindow.map((r) => r.status), [201, 201]);
    assert.equal(overAgain.status, 429);
    assert.deepEqual(connector.received.map((r) => [r.text, r.attempt]), [['1', 1], ['2', 2], ['4', 4], ['5', 5]]);
  });

  it('throttles one conversation over its per-second limit without affecting the others', async () => {
    const clock = manualClock();
    const connector = await start({ throttle: { perConversationPerSecond: 1 }, clock: clock.now });

    const first = await send(connector, teamsChannelId, activity('1'));
    const second = await send(connector, teamsChannelId, activity('2'));
    const other = await send(connector, personalId, activity('3'));
    clock.advance(1000);
    const later = await send(connector, teamsChannelId, activity('4'));

    assert.deepEqual([first.status, second.status, other.status, later.status], [201, 429, 201, 201]);
    assert.equal(second.retryAfter, '1');
  });

  it('counts a request in the throttling windows when it arrives after its network transit, so jitter reorders arrivals', async () => {
    const clock = manualClock();
    let draws = 0;
    // The first request draws a transit of almost 10 minutes, the second none.
    const random = (): number => (++draws === 1 ? 0.99 : 0);
    const connector = await start({ throttle: { perTenantPerSecond: 1 }, jitterMs: 600_000, random, clock: clock.now });

    const sentFirst = send(connector, 'first', activity('first')).catch((error: unknown) => error);
    while (draws < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const sentSecond = await send(connector, 'second', activity('second'));

    assert.equal(sentSecond.status, 201, 'the request still in transit has not taken the window');
    assert.equal(connector.requests, 2);
    assert.deepEqual(connector.received.map((r) => r.conversationId), ['second']);
    await connector.stop();
    assert.ok((await sentFirst) instanceof Error, 'stop ends the request in transit');
  });

  it('tells 429s from a full throttling window apart from injected 429s', async () => {
    const clock = manualClock();
    const connector = await start({
      throttle: { perTenantPerSecond: 1 },
      conversationFaults: { busy: { status: 429, retryAfterSeconds: 3 } },
      clock: clock.now,
    });

    const admitted = await send(connector, 'a', activity('a'));
    const overRate = await send(connector, 'b', activity('b'));
    clock.advance(1000);
    const injected = await send(connector, 'busy', activity('busy'));

    assert.deepEqual([admitted.status, overRate.status, injected.status], [201, 429, 429]);
    assert.deepEqual([overRate.retryAfter, injected.retryAfter], ['1', '3']);
    assert.equal(connector.throttled, 2);
    assert.equal(connector.throttledByRate, 1);
  });

  it('throttles with the real clock and accepts again after a second', async () => {
    const connector = await start({ throttle: { perTenantPerSecond: 2 } });

    const burst = await Promise.all(['a', 'b', 'c'].map((id) => send(connector, id, activity(id))));
    await new Promise((resolve) => setTimeout(resolve, 1050));
    const later = await send(connector, 'd', activity('d'));

    assert.deepEqual(burst.map((r) => r.status).sort(), [201, 201, 429]);
    assert.equal(later.status, 201);
  });

  it('answers injected faults with their status, code and Retry-After, and does not record them as delivered', async () => {
    const connector = await start({
      conversationFaults: {
        roster: { status: 403, code: 'BotNotInConversationRoster' },
        blocked: { status: 403, code: 'ConversationBlockedByUser' },
        gone: { status: 404, code: 'ConversationNotFound' },
        busy: { status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 3 },
        noToken: { status: 401 },
      },
    });

    const replies = new Map<string, Reply>();
    for (const id of ['roster', 'blocked', 'gone', 'busy', 'noToken', 'fine']) replies.set(id, await send(connector, id, activity(id)));

    const summary = [...replies].map(([id, reply]) => [id, reply.status, reply.body, reply.retryAfter]);
    assert.deepEqual(
      summary.map(([id, status, body, retryAfter]) => [id, status, (body as { error?: { code: string } }).error?.code, retryAfter]),
      [
        ['roster', 403, 'BotNotInConversationRoster', null],
        ['blocked', 403, 'ConversationBlockedByUser', null],
        ['gone', 404, 'ConversationNotFound', null],
        ['busy', 503, 'ServiceUnavailable', '3'],
        ['noToken', 401, undefined, null],
        ['fine', 201, undefined, null],
      ],
    );
    assert.deepEqual(replies.get('noToken')?.body, { message: 'Authorization has been denied for this request.' });
    assert.deepEqual(connector.received.map((r) => r.conversationId), ['fine']);
    assert.equal(connector.byStatus.get(403), 2);
  });

  it('passes the attempt number to the fault function so a conversation can fail and then succeed', async () => {
    const connector = await start({
      faults: ({ attempt }) => (attempt < 3 ? { status: 500, message: 'transient' } : undefined),
    });

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(connector, personalId, activity('retry me'))).status);

    assert.deepEqual(statuses, [500, 500, 201]);
    assert.equal(connector.received[0]?.attempt, 3);
    assert.equal(connector.deliveredCount(personalId), 1);
  });

  it('drops the connection without an answer for a drop fault', async () => {
    const connector = await start({ conversationFaults: { [personalId]: { dropConnection: true } } });

    await assert.rejects(send(connector, personalId, activity('lost')), TypeError);

    assert.equal(connector.dropped, 1);
    assert.equal(connector.received.length, 0);
  });

  it('injects the same random faults for the same seed, whatever the order of arrival', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `a:conversation-${i}`);
    const randomFaults = { rate429: 0.2, rate503: 0.1, seed: 42, retryAfterSeconds: 2 };
    const first = await start({ randomFaults });
    const second = await start({ randomFaults });
    const otherSeed = await start({ randomFaults: { ...randomFaults, seed: 7 } });

    const inOrder = await Promise.all(ids.map((id) => send(first, id, activity(id))));
    const reversed = (await Promise.all([...ids].reverse().map((id) => send(second, id, activity(id))))).reverse();
    const withOtherSeed = await Promise.all(ids.map((id) => send(otherSeed, id, activity(id))));

    const statuses = inOrder.map((r) => r.status);
    assert.deepEqual(reversed.map((r) => r.status), statuses);
    assert.notDeepEqual(withOtherSeed.map((r) => r.status), statuses);
    const count = (status: number): number => statuses.filter((s) => s === status).length;
    assert.ok(count(429) > 20 && count(429) < 60, `429s: ${count(429)}`);
    assert.ok(count(503) > 5 && count(503) < 35, `503s: ${count(503)}`);
    assert.ok(inOrder.every((r) => (r.status === 429 ? r.retryAfter === '2' : r.retryAfter === null)));
    assert.equal(first.accepted, count(201));
    assert.equal(first.throttled, count(429));
  });

  it('refuses requests without exactly the required Authorization header with 401', async () => {
    const connector = await start({ requireAuthorization: 'Bearer test-token' });

    const missing = await send(connector, personalId, activity('x'));
    const wrong = await send(connector, personalId, activity('x'), { headers: { authorization: 'Bearer other' } });
    const right = await send(connector, personalId, activity('x'), { headers: { authorization: 'Bearer test-token' } });

    assert.equal(missing.status, 401);
    assert.deepEqual(missing.body, { message: 'Authorization has been denied for this request.' });
    assert.equal(wrong.status, 401);
    assert.equal(right.status, 201);
    assert.equal(connector.received.length, 1);
  });

  it('waits the configured latency before answering', async () => {
    const connector = await start({ latencyMs: 150 });

    const started = performance.now();
    await send(connector, personalId, activity('slow'));

    assert.ok(performance.now() - started >= 145);
  });

  it('lists conversations delivered more than once, and forgets everything on reset', async () => {
    const connector = await start({ throttle: { perTenantPerSecond: 100 } });

    await send(connector, 'once', activity('1'));
    await send(connector, 'twice', activity('2'));
    await send(connector, 'twice', activity('3'));

    assert.deepEqual([...connector.duplicates()], [['twice', 2]]);
    connector.reset();
    assert.deepEqual(
      [connector.received.length, connector.requests, connector.accepted, connector.byStatus.size, connector.duplicates().size],
      [0, 0, 0, 0, 0],
    );
    await send(connector, 'twice', activity('4'));
    assert.equal(connector.received[0]?.attempt, 1);
  });

  it('keeps small records unless asked to record whole activities', async () => {
    const small = await start();
    const full = await start({ recordActivities: true });
    const card = { ...activity('with a card'), attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: {} }] };

    await send(small, personalId, card);
    await send(full, personalId, card);

    assert.equal(small.received[0]?.activity, undefined);
    assert.equal(small.received[0]?.attachmentCount, 1);
    assert.equal(small.received[0]?.text, 'with a card');
    assert.deepEqual(full.received[0]?.activity, card);
  });

  it('counts the connections clients open, so reuse of kept-alive connections shows', async () => {
    const connector = await start();
    const post = (agent: Agent | false): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = request(new URL('v3/conversations/c/activities', connector.serviceUrl), { method: 'POST', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(JSON.stringify(activity('x')));
      });
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });

    for (let i = 0; i < 3; i++) await post(keptAlive);
    const afterReuse = connector.connections;
    for (let i = 0; i < 2; i++) await post(false);

    assert.equal(afterReuse, 1);
    assert.equal(connector.connections, 3);
    assert.equal(connector.requests, 5);
    keptAlive.destroy();
  });

  it('stops promptly while clients hold idle keep-alive connections', async () => {
    const connector = await startFakeConnector();
    const agent = new Agent({ keepAlive: true });
    const viaAgent = new Promise<number | undefined>((resolve, reject) => {
      const req = request(new URL('v3/conversations/c/activities', connector.serviceUrl), { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(JSON.stringify(activity('kept alive')));
    });
    assert.equal(await viaAgent, 201);
    await send(connector, personalId, activity('fetch keeps its socket too'));

    const started = performance.now();
    await connector.stop();

    assert.ok(performance.now() - started < 1000);
    agent.destroy();
  });

  it('stops promptly while a request is still waiting for its latency, and the client sees the connection close', async () => {
    const connector = await startFakeConnector({ latencyMs: 60_000 });
    const pending = fetch(new URL('v3/conversations/c/activities', connector.serviceUrl), {
      method: 'POST',
      body: JSON.stringify(activity('never answered')),
    });
    while (connector.requests === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const started = performance.now();
    await connector.stop();

    assert.ok(performance.now() - started < 1000);
    await assert.rejects(pending, TypeError);
  });
});

/** A PUT (with an activity) or a DELETE of one activity of a conversation. */
async function change(connector: FakeConnector, method: 'PUT' | 'DELETE', conversationId: string, activityId: string, body?: unknown): Promise<Reply> {
  const path = `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`;
  const response = await fetch(new URL(path, connector.serviceUrl), {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

function idOf(reply: Reply): string {
  const id = (reply.body as { id?: unknown }).id;
  assert.equal(typeof id, 'string');
  return id as string;
}

describe('fake Bot Connector: the messages a conversation shows', () => {
  it('keeps every sent message under the fresh id it answered with', async () => {
    const connector = await start();
    const first = idOf(await send(connector, personalId, activity('one')));
    const second = idOf(await send(connector, personalId, activity('two')));
    assert.notEqual(first, second);
    assert.deepEqual(connector.messages(personalId).map((message) => [message.id, message.text]), [[first, 'one'], [second, 'two']]);
    assert.equal(connector.messageCount(), 2);
  });

  it('an update replaces the message it names and a delete removes it; the other messages stay as they were', async () => {
    const connector = await start();
    const first = idOf(await send(connector, teamsChannelId, activity('before')));
    const second = idOf(await send(connector, teamsChannelId, activity('untouched')));

    const updated = await change(connector, 'PUT', teamsChannelId, first, { ...activity('after'), attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: {} }] });
    assert.equal(updated.status, 200);
    assert.deepEqual(connector.messages(teamsChannelId).map((message) => [message.text, message.attachmentCount, message.updates]), [['after', 1, 1], ['untouched', 0, 0]]);
    assert.equal(connector.updatesOf(teamsChannelId), 1);

    assert.equal((await change(connector, 'DELETE', teamsChannelId, first)).status, 200);
    assert.deepEqual(connector.messages(teamsChannelId).map((message) => message.id), [second]);
    assert.deepEqual(connector.activityChanges, { updated: 1, deleted: 1, unknown: 0 });
  });

  it('an update or delete of an id the conversation does not hold (never sent, or deleted) is 404 NotFound', async () => {
    const connector = await start();
    const id = idOf(await send(connector, personalId, activity('only')));
    const unknown = await change(connector, 'PUT', personalId, 'activity-999', activity('x'));
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { error: { code: string } }).error.code, 'NotFound');
    assert.equal((await change(connector, 'PUT', 'a:other', id, activity('x'))).status, 404, 'an id of another conversation');
    assert.equal((await change(connector, 'DELETE', personalId, id)).status, 200);
    assert.equal((await change(connector, 'DELETE', personalId, id)).status, 404, 'deleted already');
    assert.equal(connector.activityChanges.unknown, 3);
  });

  it("updates and deletes count against the tenant's and the conversation's limits like sends, and are throttled with Retry-After", async () => {
    const clock = manualClock();
    const connector = await start({ clock: clock.now, throttle: { perTenantPerSecond: 3, perConversationPerSecond: 100, retryAfterSeconds: 2 } });
    const a = idOf(await send(connector, 'a:1', activity('a', 'tenant-t')));
    const b = idOf(await send(connector, 'a:2', activity('b', 'tenant-t')));
    assert.equal((await change(connector, 'PUT', 'a:1', a, activity('a2', 'tenant-t'))).status, 200);
    const overPut = await change(connector, 'PUT', 'a:2', b, activity('b2', 'tenant-t'));
    assert.deepEqual([overPut.status, overPut.retryAfter], [429, '2']);
    const overDelete = await change(connector, 'DELETE', 'a:2', b);
    assert.deepEqual([overDelete.status, overDelete.retryAfter], [429, '2'], "a delete counts for the tenant the conversation was sent to");
    assert.equal((await send(connector, 'a:9', activity('other tenant', 'tenant-u'))).status, 201);
    clock.advance(1_000);
    assert.equal((await change(connector, 'DELETE', 'a:2', b)).status, 200);
    assert.deepEqual(connector.messages('a:2'), []);
    assert.equal(connector.messages('a:1')[0]?.text, 'a2');
  });
});

describe("fake Bot Connector: the log of accepted updates and deletes (the bench's passes read it)", () => {
  it("tells each tenant's first accepted update, the chats updated more than once, and leaves out refused changes", async () => {
    const clock = manualClock();
    const connector = await start({ clock: clock.now, throttle: { perTenantPerSecond: 4, perConversationPerSecond: 100 } });
    const a = idOf(await send(connector, 'a:1', activity('a', 'tenant-t')));
    const b = idOf(await send(connector, 'a:2', activity('b', 'tenant-u')));
    assert.equal((await change(connector, 'PUT', 'a:1', a, activity('a2', 'tenant-t'))).status, 200);
    assert.equal((await change(connector, 'PUT', 'a:2', b, activity('b2', 'tenant-u'))).status, 200);
    assert.equal((await change(connector, 'PUT', 'a:1', a, activity('a3', 'tenant-t'))).status, 200);
    assert.equal((await change(connector, 'PUT', 'a:1', 'activity-999', activity('x', 'tenant-t'))).status, 404);
    assert.equal((await change(connector, 'PUT', 'a:1', a, activity('a4', 'tenant-t'))).status, 429);

    const updates = connector.changeLog.summary('update');
    assert.deepEqual([updates.accepted, updates.conversations, updates.changedMoreThanOnce], [3, 2, 1]);
    assert.deepEqual(Object.keys(updates.firstAtByTenant).sort(), ['tenant-t', 'tenant-u']);
    assert.ok((updates.firstAtByTenant['tenant-t'] ?? Infinity) <= (updates.firstAtByTenant['tenant-u'] ?? 0), 'tenant-t was updated first');
    assert.ok(updates.lastAt >= (updates.firstAtByTenant['tenant-u'] ?? Infinity));
    assert.equal(connector.changeLog.summary('delete').accepted, 0);
  });

  it('logs a delete under the tenant the conversation was sent to, and forgets everything on reset', async () => {
    const connector = await start();
    const id = idOf(await send(connector, 'a:1', activity('a', 'tenant-t')));
    assert.equal((await change(connector, 'DELETE', 'a:1', id)).status, 200);
    const deletes = connector.changeLog.summary('delete');
    assert.deepEqual([deletes.accepted, deletes.conversations, Object.keys(deletes.firstAtByTenant)], [1, 1, ['tenant-t']]);
    connector.reset();
    assert.deepEqual(connector.changeLog.summary('delete'), { accepted: 0, conversations: 0, changedMoreThanOnce: 0, firstAtByTenant: {}, lastAt: 0, lastAtByTenant: {}, longestPauseByTenant: {} });
  });
});
