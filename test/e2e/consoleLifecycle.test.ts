import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { launchChromium, seriousAccessibilityViolations, waitForExpression } from '../support/browser';
import { seedConversations } from '../support/seedConversations';

/**
 * After the send, in the console in headless Chromium: the local host with
 * its queue triggers, a real Azurite, the fake Bot Connector (which keeps
 * each conversation's messages). A notification that asks for
 * acknowledgements, presses posted to /api/messages as Teams posts them and
 * counted beside Sent, the recipients' CSV, Remind, Edit with its preview,
 * Recall behind its confirmation.
 */

const fastQueues = {
  LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
  NOTIFICATIONS_SLICE_SECONDS: '3',
  NOTIFICATIONS_TENANT_LEASE_SECONDS: '3',
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
};

/** Generous: the machine may be busy; nothing here asserts a duration. */
const slowly = { timeout: 120_000 };

/** A press of the acknowledge button in a seeded personal chat, as Teams posts it to the bot. */
function acknowledgePress(serviceUrl: string, conversationId: string, tenantId: string, notificationId: string) {
  return {
    type: 'invoke',
    name: 'adaptiveCard/action',
    id: `f:${conversationId}:press`,
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: `29:user-${conversationId}`, name: 'Person', aadObjectId: `aad-${conversationId}` },
    recipient: { id: '28:bot', name: 'Notifier' },
    conversation: { id: conversationId, conversationType: 'personal', tenantId, isGroup: false },
    channelData: { tenant: { id: tenantId } },
    value: { action: { type: 'Action.Execute', verb: 'acknowledge', data: { notificationId } }, trigger: 'manual' },
  };
}

describe('notification console: after the send', () => {
  let storage: TestStorage | undefined;
  let connector: FakeConnector | undefined;
  let app: AppProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let chats: string[] = [];
  let notificationId = '';
  const pressed = [1, 4, 6];
  let editedText = '';
  /** Each chat's message as first delivered, by the id the connector gave it. */
  const deliveredIds = new Map<string, string>();
  const pageErrors: string[] = [];
  /** The page is opened with a function key, as in Azure (the local host does not check it). */
  const functionKey = 'lifecycle-test-key-51c2';
  const apiRequests: { url: string; key: string | undefined }[] = [];

  before(async () => {
    [storage, connector, browser] = await Promise.all([startTestStorage({ queues: true }), startFakeConnector({ recordActivities: true }), launchChromium()]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    chats = await seedConversations(store, connector.serviceUrl, { count: 8, tenants: 1, prefix: 'a:life' });
    app = await startApp({ settings: appSettings(storage.connectionString, fastQueues) });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
    page.setDefaultTimeout(30_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/notifications/')) apiRequests.push({ url: request.url(), key: request.headers()['x-functions-key'] });
    });
    await page.goto(`${app.baseUrl}/api/console?code=${functionKey}`);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  const count = async (name: string): Promise<number> => Number(((await page.locator(`#count-${name}`).textContent()) ?? '').replace(/,/g, ''));
  const state = () => page.locator('#status-state');
  const messagesIn = (conversationId: string) => connector?.messages(conversationId) ?? [];
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${app?.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('asks for acknowledgement: everyone gets the button with its label, and presses show as Acknowledged beside Sent', async () => {
    await page.getByLabel('Message', { exact: true }).fill('Fire drill at 10:00');
    await page.getByRole('checkbox', { name: 'Ask for acknowledgement' }).check();
    await page.getByLabel('Button label').fill('Got it, thanks');
    // The preview shows the button people will press.
    await page.locator('#card-preview .ac-adaptiveCard', { hasText: 'Got it, thanks' }).waitFor();
    await page.locator('#audience:not([aria-busy]) #audience-count', { hasText: '8 conversations in 1 tenant' }).waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('#status-id:not(:empty)').waitFor();
    notificationId = (await page.locator('#status-id').textContent()) ?? '';
    await state().filter({ hasText: 'completed' }).waitFor(slowly);
    assert.equal(await count('sent'), 8);
    assert.equal(await count('acknowledged'), 0);

    for (const chat of chats) {
      const [message, ...others] = messagesIn(chat);
      assert.equal(others.length, 0, `one message in ${chat}`);
      assert.equal(message?.text, 'Fire drill at 10:00');
      const card = (message?.activity?.['attachments'] as { content: { actions: { type: string; title: string }[] } }[] | undefined)?.[0]?.content;
      assert.deepEqual(card?.actions.map((action) => [action.type, action.title]), [['Action.Execute', 'Got it, thanks']], `the button in ${chat}`);
      deliveredIds.set(chat, message?.id ?? '');
    }

    for (const index of pressed) {
      const answer = await post('/api/messages', acknowledgePress(connector?.serviceUrl ?? '', chats[index] ?? '', 'tenant-0', notificationId));
      assert.equal(answer.status, 200, await answer.text());
    }
    // Pressed again: still counted once.
    await post('/api/messages', acknowledgePress(connector?.serviceUrl ?? '', chats[1] ?? '', 'tenant-0', notificationId));
    await waitForExpression(page, "document.getElementById('count-acknowledged').textContent === '3'", 60_000);
    assert.equal(await page.locator('#acknowledged-count').isVisible(), true);
    assert.match((await page.locator('#read-covers').textContent()) ?? '', /personal chats/);
    assert.equal(await page.getByRole('button', { name: 'Remind' }).isVisible(), true, 'Remind is offered: it asked for acknowledgements');
  });

  test('Download CSV saves every recipient with its outcome and when they acknowledged', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    assert.equal(download.suggestedFilename(), `${notificationId}-recipients.csv`);
    const lines = (await readFile(await download.path(), 'utf8')).trim().split('\r\n');
    const [header, ...rows] = lines;
    assert.equal(header, 'conversationId,userId,tenantId,outcome,error,activityId,acknowledgedAt,readAt');
    assert.deepEqual(rows.map((row) => row.split(',')[0]).sort(), [...chats].sort(), 'one row per recipient');
    assert.ok(rows.every((row) => row.split(',')[3] === 'delivered'));
    const acknowledged = rows.filter((row) => (row.split(',')[6] ?? '') !== '').map((row) => row.split(',')[0]);
    assert.deepEqual(acknowledged.sort(), pressed.map((index) => chats[index]).sort());
    await page.locator('#action-note', { hasText: 'Downloaded' }).waitFor();
    const csvRequests = apiRequests.filter((request) => request.url.endsWith('/recipients?format=csv'));
    assert.deepEqual(csvRequests.map((request) => request.key), [functionKey], 'the file was fetched once, with the function key as a header');
    assert.ok(csvRequests.every((request) => !request.url.includes(functionKey)), 'never in the URL');
  });

  test('Edit opens on the message as it reads now, previewed', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    assert.equal(await page.getByLabel('New message').inputValue(), 'Fire drill at 10:00');
    await page.locator('#edit-preview-text', { hasText: 'Fire drill at 10:00' }).waitFor();
    assert.equal(await page.locator('#edit-use-card').isChecked(), false, 'it was sent without a card of its own');
    await page.getByRole('button', { name: 'Close without editing' }).click();
  });

  test('the page with the edit form and the recall question open has no serious accessibility violations', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByLabel('New message').fill('Fire drill moved to 11:00');
    let violations = await seriousAccessibilityViolations(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
    await page.getByRole('button', { name: 'Close without editing' }).click();

    await page.getByRole('button', { name: 'Recall', exact: true }).click();
    await page.getByRole('dialog', { name: 'Recall this notification?' }).waitFor();
    violations = await seriousAccessibilityViolations(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
    await page.getByRole('button', { name: 'Keep it' }).click();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    assert.ok(chats.every((chat) => messagesIn(chat).length === 1), 'keeping it deleted nothing');
  });

  test('Edit replaces the message in every chat it reached, acknowledged for those who pressed, and the status says the revision and how many chats were updated', async () => {
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    assert.equal(await page.getByLabel('New message').inputValue(), 'Fire drill at 10:00', 'what was typed and closed without editing is not kept');
    const newText = 'Fire drill moved to 11:00';
    await page.getByLabel('New message').fill(newText);
    await page.locator('#edit-preview-text', { hasText: newText }).waitFor();
    await page.getByRole('button', { name: 'Replace the message everywhere' }).click();
    await page.locator('#action-note', { hasText: 'Edit accepted' }).waitFor();
    assert.equal(await page.locator('#edit-form').isHidden(), true, 'the form closes once the edit is taken');

    await state().filter({ hasText: 'revision 2' }).waitFor(slowly);
    await page.locator('#pass-progress li', { hasText: 'Edit 1 (revision 2): done, 8 chats updated' }).waitFor(slowly);
    for (const [index, chat] of chats.entries()) {
      const shown = messagesIn(chat);
      assert.deepEqual(shown.map((message) => [message.text, message.updates]), [[newText, 1]], `${chat} shows the new text, updated once`);
      const card = (shown[0]?.activity?.['attachments'] as { content: { body?: { text?: string }[]; actions?: { title: string }[] } }[] | undefined)?.[0]?.content;
      if (pressed.includes(index)) {
        assert.equal(card?.actions, undefined, `${chat}: who pressed does not get the button back`);
        assert.match(card?.body?.at(-1)?.text ?? '', /^Acknowledged (on \d{4}-\d{2}-\d{2} )?at \d{2}:\d{2}/, chat);
      } else {
        assert.deepEqual(card?.actions?.map((action) => action.title), ['Got it, thanks'], `${chat} keeps the button`);
      }
    }
    editedText = newText;
    assert.equal(await count('acknowledged'), 3, 'the acknowledgements stay');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    assert.equal(await page.getByLabel('New message').inputValue(), newText, 'Edit now opens on the edited message');
    await page.getByRole('button', { name: 'Close without editing' }).click();
  });

  test('Remind sends the message again only to the chats where nobody acknowledged, and says how many', async () => {
    const before = new Map(chats.map((chat) => [chat, messagesIn(chat).length]));
    await page.getByRole('button', { name: 'Remind', exact: true }).click();
    await page.locator('#action-note', { hasText: 'Reminder on its way' }).waitFor();
    await page.locator('#pass-progress li', { hasText: 'Reminder 1: done, sent to 5 chats, 3 left out as acknowledged' }).waitFor(slowly);
    const gained = chats.map((chat) => messagesIn(chat).length - (before.get(chat) ?? 0));
    assert.deepEqual(gained, chats.map((_, index) => (pressed.includes(index) ? 0 : 1)), 'one reminder in each chat that had not acknowledged, none elsewhere');
    const reminded = chats.filter((_, index) => !pressed.includes(index));
    assert.ok(reminded.every((chat) => messagesIn(chat).at(-1)?.text === editedText), 'the reminder is the message as it reads now');
  });

  test('Recall asks first, then deletes the message from every chat: the state says recalled and how many it was removed from', async () => {
    await page.getByRole('button', { name: 'Recall', exact: true }).click();
    await page.getByRole('dialog', { name: 'Recall this notification?' }).waitFor();
    await page.getByRole('button', { name: 'Recall from every chat' }).click();
    await state().filter({ hasText: 'recalled' }).waitFor(slowly);
    await page.locator('#pass-progress li', { hasText: 'Recall: done, removed from 8 chats' }).waitFor(slowly);
    // The notification's message is gone from every chat, and so are the reminders sent there.
    const left = chats.filter((chat) => messagesIn(chat).some((message) => message.id === deliveredIds.get(chat)));
    assert.deepEqual(left, [], 'no chat shows the notification any more');
    assert.deepEqual(chats.filter((chat) => messagesIn(chat).length > 0), [], 'every chat is empty, reminders included');
    for (const name of ['Edit', 'Recall', 'Remind']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).isHidden(), true, `nothing left to ${name.toLowerCase()}`);
    }
  });

  test('Edit of a notification sent with a card opens with its card JSON and the card previewed', async () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Car park B is closed', wrap: true }] };
    const accepted = await post('/api/notifications', { id: 'lifecycle-card', text: 'Parking today', card, target: { conversationIds: [chats[0]] } });
    assert.equal(accepted.status, 202, await accepted.text());
    await page.getByRole('button', { name: 'Refresh history' }).click();
    await page.getByRole('button', { name: 'Open lifecycle-card' }).click();
    await state().filter({ hasText: 'completed' }).waitFor(slowly);
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    assert.equal(await page.getByLabel('New message').inputValue(), 'Parking today');
    assert.equal(await page.locator('#edit-use-card').isChecked(), true);
    assert.deepEqual(JSON.parse(await page.locator('#edit-card-json').inputValue()), card);
    await page.locator('#edit-card-preview .ac-adaptiveCard', { hasText: 'Car park B is closed' }).waitFor();
    await page.locator('#edit-preview-text', { hasText: 'Parking today' }).waitFor();
    await page.getByRole('button', { name: 'Close without editing' }).click();
  });

  test('had no script errors or content security policy violations on the way, and sent the function key with every call', () => {
    assert.deepEqual(pageErrors, []);
    const methods = new Set(apiRequests.map((request) => new URL(request.url).pathname.split('/').at(-1)));
    for (const action of ['recall', 'remind']) assert.ok(methods.has(action), `the page called ${action}`);
    assert.deepEqual(apiRequests.filter((request) => request.key !== functionKey), []);
  });
});
