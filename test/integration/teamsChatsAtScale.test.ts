import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startFakeConnector } from '../../scripts/fakeConnector';
import type { PersonRecipient } from '../../shared/delivery/broadcastTypes';
import { createServices } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { recordingLogger } from '../support/recordingLogger';

// runTests: alone
// A count of 429s under a rate limit: files running beside it would slow its requests unevenly.

/**
 * Teams' tenant limit scaled up (200 requests/s in the fake and in the app instead of 50) so that
 * 10,000 requests take under a minute; the limiter and the fake count the same way at any rate.
 */
const ratePerSecond = 200;
const people = 5_000;
const tenantId = 'tenant-many';

describe('opening personal chats at scale', () => {
  const connector = startFakeConnector({ latencyMs: 5, jitterMs: 5, throttle: { perTenantPerSecond: ratePerSecond, retryAfterSeconds: 1 } });
  after(async () => (await connector).stop());

  test('5,000 people never messaged before each get a new chat and the message in one tenant, with at most 0.1 % of requests over the limit', async () => {
    const fake = await connector;
    const members = Array.from({ length: people }, (_, i) => ({ id: `29:person-${i}`, aadObjectId: `aad-person-${i}` }));
    fake.teams.seedTeam({ tenantId, id: '19:everyone@thread.tacv2', members });
    const settings = loadSettings({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      NOTIFY_TENANT_RATE_PER_SECOND: String(ratePerSecond),
      NOTIFY_DEADLINE_SECONDS: '180',
    });
    const app = createServices(settings, { logger: recordingLogger(), store: new MemoryConversationStore() });
    const recipients: PersonRecipient[] = members.map((member) => ({ tenantId, serviceUrl: fake.serviceUrl, channelId: 'msteams', memberId: member.id, aadObjectId: member.aadObjectId }));

    const summary = await app.broadcast({ id: 'everyone', activity: { type: 'message', text: 'Welcome to the new intranet' }, filter: { conversationIds: [] }, people: recipients });

    assert.deepEqual([summary.matched, summary.sent, summary.failed, summary.notAttempted, summary.chatsOpened], [people, people, 0, 0, people]);
    assert.deepEqual([fake.teams.newConversations, fake.accepted], [people, people]);
    // At 5 ms between requests a late timer on a busy machine can let one request through early: at most
    // 0.1 % of them (2 of 3 clean-clone runs here drew 5 at load 10-12), each retried after Retry-After.
    const requests = 2 * people;
    assert.ok(fake.throttledByRate <= requests / 1_000, `at most 0.1 % of ${requests} requests over the tenant limit: ${fake.throttledByRate}`);
    assert.ok(summary.retried <= fake.throttledByRate, `retries only after a 429: ${summary.retried} retried, ${fake.throttledByRate} throttled`);
    assert.equal(fake.duplicates().size, 0);
  });
});
