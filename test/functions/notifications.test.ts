import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { notificationById, notifications } from '../../functions/notifications';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { createServices, setServices, type Services } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { toStoredConversation } from '../../shared/storage/conversationStore';
import { startAzurite, type RunningAzurite } from '../../scripts/azurite';
import { startQueueWorkers } from '../../scripts/queueWorkers';
import { recordingLogger } from '../support/recordingLogger';

let storage: RunningAzurite;
let connector: FakeConnector;
let services: Services;

before(async () => {
  [storage, connector] = await Promise.all([startAzurite({ queue: true }), startFakeConnector()]);
  services = createServices(
    loadSettings({
      AzureWebJobsStorage: storage.connectionString,
      CONVERSATIONS_TABLE: 'apiconversations',
      // Every notification here goes to the same two tenants: one waiting for another's tenant lease waits for it
      // to lapse or be released, seconds with a short lease (15 s by default).
      NOTIFICATIONS_TENANT_LEASE_SECONDS: '2',
    }),
    {
      logger: recordingLogger(),
      queuedTuning: { sliceMs: 1_000, catchUpDelaySeconds: 1 },
    },
  );
  setServices(services);
  for (const [index, id] of ['a:api-1', 'a:api-2', 'a:api-3'].entries()) {
    const check = toStoredConversation({
      channelId: 'msteams',
      serviceUrl: connector.serviceUrl,
      bot: { id: '28:bot', name: 'Notifier' },
      user: { id: `29:${id}`, name: '' },
      conversation: { id, tenantId: `t${index % 2}`, conversationType: 'personal', isGroup: false, name: '' },
    });
    if (!check.ok) throw new Error(check.reason);
    await services.store.upsert(check.conversation);
  }
});

after(async () => {
  setServices(undefined);
  await Promise.all([storage?.stop(), connector?.stop()]);
});

const context = (): InvocationContext => new InvocationContext({ functionName: 'notifications', logHandler: () => undefined });

function call(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
  method: string,
  path: string,
  options: { body?: unknown; params?: Record<string, string> } = {},
): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method,
    url: `http://localhost${path}`,
    headers: { 'content-type': 'application/json' },
    ...(options.body === undefined ? {} : { body: { string: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } }),
    ...(options.params === undefined ? {} : { params: options.params }),
  });
  return handler(request, context());
}

const post = (body: unknown): Promise<HttpResponseInit> => call(notifications, 'POST', '/api/notifications', { body });
const get = (id: string, query = ''): Promise<HttpResponseInit> => call(notificationById, 'GET', `/api/notifications/${id}${query}`, { params: { id } });
const cancel = (id: string): Promise<HttpResponseInit> => call(notificationById, 'DELETE', `/api/notifications/${id}`, { params: { id } });
const body = (response: HttpResponseInit): Record<string, unknown> => response.jsonBody as Record<string, unknown>;

describe('the /api/notifications functions', () => {
  it('POST answers 202 with Location and the id, state and status URL, and the same id and body again answers 202 with the same notification', async () => {
    const first = await post({ id: 'api-release-1', text: 'Release 1' });
    assert.equal(first.status, 202);
    assert.equal((first.headers as Record<string, string>)['Location'], '/api/notifications/api-release-1');
    assert.deepEqual(first.jsonBody, { id: 'api-release-1', state: 'queued', statusUrl: '/api/notifications/api-release-1' });

    const again = await post({ text: 'Release 1', id: 'api-release-1' });
    assert.equal(again.status, 202);
    assert.equal(body(again)['id'], 'api-release-1');
  });

  it('POST without an id generates one', async () => {
    const response = await post({ text: 'no id' });
    assert.equal(response.status, 202);
    assert.match(String(body(response)['id']), /^[0-9a-f-]{36}$/);
  });

  it('POST with an id used for another message answers 409', async () => {
    await post({ id: 'api-reused', text: 'first' });
    const response = await post({ id: 'api-reused', text: 'second' });
    assert.equal(response.status, 409);
    assert.equal(body(response)['error'], 'NotificationIdReused');
  });

  it('POST with an invalid body answers 400 with every problem', async () => {
    const response = await post({ txt: 'typo', target: { tenantIds: [] } });
    assert.equal(response.status, 400);
    assert.ok((body(response)['errors'] as string[]).length >= 2);
  });

  it('GET and DELETE of an unknown id answer 404', async () => {
    assert.equal((await get('no-such-notification')).status, 404);
    assert.equal((await cancel('no-such-notification')).status, 404);
  });

  it('GET /api/notifications/{id} reports the progress with every field, up to completed', async () => {
    await post({ id: 'api-progress', text: 'progress' });
    const queued = await get('api-progress');
    assert.equal(queued.status, 200);
    assert.deepEqual(Object.keys(body(queued)).sort(), [
      'acknowledged', 'alreadySent', 'blocked', 'completedAt', 'content', 'createdAt', 'failed', 'failedWork', 'failures', 'guest', 'id', 'matched', 'notFound', 'notInstalled', 'optedOut',
      'pending', 'pruned', 'read', 'readCovers', 'reminders', 'retried', 'revision', 'revisions', 'sendAt', 'sent', 'startedAt', 'state',
    ]);
    assert.deepEqual({ state: body(queued)['state'], matched: body(queued)['matched'], content: body(queued)['content'] }, { state: 'queued', matched: null, content: { text: 'progress' } });

    const pump = startQueueWorkers(storage.connectionString, services.queued);
    try {
      const deadline = Date.now() + 60_000;
      let status = body(await get('api-progress'));
      while (status['state'] !== 'completed' && Date.now() < deadline) {
        await delay(100);
        status = body(await get('api-progress'));
      }
      assert.deepEqual(
        { state: status['state'], matched: status['matched'], sent: status['sent'], pending: status['pending'], failures: status['failures'] },
        { state: 'completed', matched: 3, sent: 3, pending: 0, failures: [] },
      );
      assert.equal((await cancel('api-progress')).status, 409, 'a completed notification cannot be cancelled');
    } finally {
      await pump.stop();
    }
  });

  it('DELETE of a failed notification answers 409 NotificationEnded, with why it failed in the message and the status', async () => {
    await post({ id: 'api-failed', text: 'fails' });
    await services.queued.planningPoisoned({ id: 'api-failed' });
    const response = await cancel('api-failed');
    assert.equal(response.status, 409);
    assert.equal(body(response)['error'], 'NotificationEnded', 'the error names the refusal, not the failure');
    assert.equal(body(response)['state'], 'failed');
    assert.match(String(body(response)['message']), /^Notification api-failed has already failed: planning failed on every attempt/);
  });

  it('DELETE cancels a notification and answers with its status', async () => {
    await post({ id: 'api-cancel', text: 'never mind' });
    const response = await cancel('api-cancel');
    assert.equal(response.status, 200);
    assert.equal(body(response)['state'], 'cancelled');
    assert.equal(body(await get('api-cancel'))['state'], 'cancelled');
  });

  it('GET /api/notifications lists the newest first, a page at a time', async () => {
    for (const id of ['api-list-1', 'api-list-2', 'api-list-3']) {
      await post({ id, text: id });
      await delay(5);
    }
    const first = await call(notifications, 'GET', '/api/notifications?limit=2');
    assert.equal(first.status, 200);
    const page = body(first) as { notifications: { id: string }[]; nextAfter?: string };
    assert.deepEqual(page.notifications.map((item) => item.id), ['api-list-3', 'api-list-2']);
    const next = body(await call(notifications, 'GET', `/api/notifications?limit=2&after=${encodeURIComponent(page.nextAfter ?? '')}`)) as {
      notifications: { id: string }[];
    };
    assert.equal(next.notifications[0]?.id, 'api-list-1');
    assert.equal((await call(notifications, 'GET', '/api/notifications?limit=0')).status, 400);
  });

  it('POST with a sendAt answers 202 scheduled with the time, and the status says scheduled with its sendAt', async () => {
    const sendAt = new Date(Date.now() + 3_600_000);
    const response = await post({ id: 'api-scheduled', text: 'later', sendAt: sendAt.toISOString().replace('Z', '+00:00') });
    assert.equal(response.status, 202);
    assert.deepEqual(response.jsonBody, { id: 'api-scheduled', state: 'scheduled', statusUrl: '/api/notifications/api-scheduled', sendAt: sendAt.toISOString() });
    const status = body(await get('api-scheduled'));
    assert.deepEqual([status['state'], status['sendAt'], status['matched'], status['sent']], ['scheduled', sendAt.toISOString(), null, 0]);

    const again = await post({ id: 'api-scheduled', text: 'later', sendAt: sendAt.toISOString() });
    assert.equal(again.status, 202, 'the same time in another notation is the same request');
    const moved = await post({ id: 'api-scheduled', text: 'later', sendAt: new Date(sendAt.getTime() + 60_000).toISOString() });
    assert.equal(moved.status, 409, 'another time is another request');
  });

  it('DELETE of a scheduled notification cancels it', async () => {
    await post({ id: 'api-scheduled-cancel', text: 'never', sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    const response = await cancel('api-scheduled-cancel');
    assert.equal(response.status, 200);
    assert.equal(body(response)['state'], 'cancelled');
  });

  it('POST with a sendAt in the past, more than 7 days ahead or without a UTC offset answers 400 naming sendAt', async () => {
    const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();
    for (const [sendAt, problem] of [
      [inDays(-1), /in the past/],
      [inDays(7.5), /more than 7 days ahead/],
      ['2030-01-01T09:00:00', /UTC offset/],
      ['tomorrow', /ISO 8601/],
      [1_800_000_000_000, /ISO 8601/],
    ] as const) {
      const response = await post({ text: 'when?', sendAt });
      assert.equal(response.status, 400, JSON.stringify(sendAt));
      const errors = body(response)['errors'] as string[];
      assert.ok(errors.some((error) => error.includes('"sendAt"') && problem.test(error)), JSON.stringify(errors));
    }
  });
});
