import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { loadSettings } from '../../shared/settings';
import { TableConversationStore } from '../../shared/storage/tableConversationStore';
import { appSettings, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';
import { launchChromium, seriousAccessibilityViolations, waitForExpression } from '../support/browser';
import { seedConversations } from '../support/seedConversations';

/**
 * Sending from the console in headless Chromium: the queued notifications API
 * in the local host (queue triggers included), a real Azurite with tables and
 * queues, the fake Bot Connector. Send and watch a notification to the end,
 * cancel a large one, reopen one from the history; send later, in a browser
 * in another time zone: cancel one before its time, watch another go out.
 */

/** Short windows, so a retried work item costs seconds here. */
const fastQueues = {
  LOCAL_QUEUE_VISIBILITY_SECONDS: '4',
  NOTIFICATIONS_SLICE_SECONDS: '3',
  NOTIFICATIONS_TENANT_LEASE_SECONDS: '3',
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
};

/** Generous: the machine may be busy; nothing here asserts a duration. */
const slowly = { timeout: 120_000 };

describe('notification console: send, watch, cancel, history', () => {
  let storage: TestStorage | undefined;
  let connector: FakeConnector | undefined;
  let app: AppProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let small: string[] = [];
  let large: string[] = [];
  const sentIds: string[] = [];

  before(async () => {
    [storage, connector, browser] = await Promise.all([
      startTestStorage({ queues: true }),
      // Every conversation of tenant-7 is gone: 404 ConversationNotFound, so each is a failure (and pruned).
      startFakeConnector({ latencyMs: 5, faults: ({ conversationId }) => (conversationId.startsWith('a:gone') ? { status: 404 } : undefined) }),
      launchChromium(),
    ]);
    const store = new TableConversationStore(loadSettings({ AzureWebJobsStorage: storage.connectionString }).conversationsStorage, 'conversations');
    // 12 in tenant-0 and tenant-1; 500 in tenant-5, sent at 20/s, so there is time to cancel; 130 gone in tenant-7.
    small = await seedConversations(store, connector.serviceUrl, { count: 12, tenants: 2, prefix: 'a:small' });
    large = await seedConversations(store, connector.serviceUrl, { count: 500, tenants: 1, firstTenant: 5, prefix: 'a:large' });
    await seedConversations(store, connector.serviceUrl, { count: 130, tenants: 1, firstTenant: 7, prefix: 'a:gone' });
    app = await startApp({ settings: appSettings(storage.connectionString, { ...fastQueues, NOTIFY_TENANT_RATE_PER_SECOND: '20' }) });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`${app.baseUrl}/api/console`);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
  });

  const delivered = (ids: readonly string[]): number[] => ids.map((id) => connector?.deliveredCount(id) ?? 0);
  const count = async (name: string): Promise<number> => Number(((await page.locator(`#count-${name}`).textContent()) ?? '').replace(/,/g, ''));
  const state = () => page.locator('#status-state');
  const waitUntil = async (condition: () => boolean, timeoutMs: number): Promise<void> => {
    for (const deadline = Date.now() + timeoutMs; !condition(); await delay(50)) {
      if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    }
  };

  async function compose(text: string, tenantIds: string, expectedAudience: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Tenant ids').fill(tenantIds);
    await page.locator('#audience:not([aria-busy]) #audience-count', { hasText: expectedAudience }).waitFor();
  }

  /** Sends (or schedules) what is composed and returns the new notification's id, once its status shows. */
  async function send(button: 'Send' | 'Schedule' = 'Send'): Promise<string> {
    const previous = await page.locator('#status-id').textContent();
    await page.getByRole('button', { name: button, exact: true }).click();
    await waitForExpression(
      page,
      `(() => { const id = document.getElementById('status-id').textContent; return (id !== '' && id !== ${JSON.stringify(previous)}) || document.getElementById('form-problems').textContent !== ''; })()`,
    );
    assert.equal(await page.locator('#form-problems').textContent(), '', 'the send was accepted');
    const id = (await page.locator('#status-id').textContent()) ?? '';
    sentIds.push(id);
    return id;
  }

  test('sends a message, and the progress bar reaches 100 % with the state completed while every recipient gets it once', async () => {
    await compose('Quarterly results are out', 'tenant-0, tenant-1', '12 conversations in 2 tenants');
    await send();

    const progress = page.getByRole('progressbar');
    await state().filter({ hasText: 'completed' }).waitFor(slowly);
    await page.locator('#progress[aria-valuenow="100"]').waitFor();
    assert.match((await progress.getAttribute('aria-valuetext')) ?? '', /12 of 12 recipients/);
    assert.equal(await count('matched'), 12);
    assert.equal(await count('sent'), 12);
    assert.equal(await count('failed'), 0);
    assert.equal(await count('pending'), 0);
    assert.equal(await page.getByRole('button', { name: 'Cancel sending' }).isHidden(), true, 'nothing to cancel once completed');
    assert.deepEqual(delivered(small), small.map(() => 1), 'the fake connector got it exactly once in each conversation');
    assert.deepEqual(delivered(large), large.map(() => 0), 'nobody outside the target');

    const violations = await seriousAccessibilityViolations(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
  });

  test('starts a large one and cancels it: sending stops and the state says cancelled', async () => {
    await compose('This one goes to the wrong people', 'tenant-5', '500 conversations in 1 tenant');
    await send();
    await waitUntil(() => delivered(large).reduce((sum, n) => sum + n, 0) >= 20, slowly.timeout);

    // The keyboard works here too: focus Cancel and press Enter.
    await page.getByRole('button', { name: 'Cancel sending' }).focus();
    await page.keyboard.press('Enter');
    await state().filter({ hasText: 'cancelled' }).waitFor(slowly);

    // Quiet for 3 s in a row: the workers have stopped.
    let deliveredSoFar = connector?.received.length ?? 0;
    for (let quietSince = Date.now(); Date.now() - quietSince < 3_000; await delay(100)) {
      const now = connector?.received.length ?? 0;
      if (now !== deliveredSoFar) [deliveredSoFar, quietSince] = [now, Date.now()];
    }
    const largeDelivered = delivered(large).reduce((sum, n) => sum + n, 0);
    assert.ok(largeDelivered < large.length, `the cancel came before the end (${largeDelivered} of ${large.length})`);
    assert.ok(delivered(large).every((n) => n <= 1), 'nobody got it twice');
    await waitForExpression(page, `Number(document.getElementById('count-sent').textContent.replace(/,/g, '')) === ${largeDelivered}`, slowly.timeout);
    assert.equal(await page.getByRole('button', { name: 'Cancel sending' }).isHidden(), true);
  });

  test('lists both in the history, newest first, and opens one from there', async () => {
    await page.getByRole('button', { name: 'Refresh history' }).click();
    const [first, second] = sentIds;
    assert.ok(first !== undefined && second !== undefined);
    const rows = page.locator('#history-rows tr');
    await rows.nth(1).waitFor();
    assert.deepEqual((await page.locator('#history-rows th button').allTextContents()).slice(0, 2), [second, first]);

    await page.getByRole('button', { name: `Open ${first}` }).click();
    await page.locator('#status-id', { hasText: first }).waitFor();
    await state().filter({ hasText: 'completed' }).waitFor();
    await page.locator('#progress[aria-valuenow="100"]').waitFor();
    assert.equal(await count('sent'), 12);
    assert.equal(await page.evaluate('document.activeElement?.id'), 'status-heading', 'focus moves to the opened status');
  });

  test('shows the failures a page at a time', async () => {
    await compose('To people who left', 'tenant-7', '130 conversations in 1 tenant');
    await send();
    await state().filter({ hasText: 'completed' }).waitFor(slowly);
    await page.locator('#progress[aria-valuenow="100"]').waitFor();
    assert.equal(await count('failed'), 130);
    assert.equal(await count('pruned'), 130);

    const rows = page.locator('#failures-rows tr');
    await rows.nth(99).waitFor();
    assert.equal(await rows.count(), 100, 'the first page');
    assert.match((await rows.first().textContent()) ?? '', /a:gone-\d+.*tenant-7.*404.*ConversationNotFound/);

    await page.getByRole('button', { name: 'Next page of failures' }).click();
    await waitForExpression(page, "document.getElementById('failures-rows').rows.length === 30");
    assert.equal(await page.getByRole('button', { name: 'Next page of failures' }).isHidden(), true, 'no page after the last');

    await page.getByRole('button', { name: 'First page of failures' }).click();
    await waitForExpression(page, "document.getElementById('failures-rows').rows.length === 100");
  });

  describe('send later', () => {
    /** Newfoundland: half an hour off any whole-hour zone, so a wrong offset shows. */
    const timeZone = 'America/St_Johns';
    const cancelledText = 'Scheduled, then called off';
    const laterText = 'Scheduled, and sent at its time';
    let cancelledId = '';
    let laterSendAt = 0;
    const pageErrors: string[] = [];

    /** The value `<input type="datetime-local">` takes for this moment, in the page's time zone, to the second. */
    const localValue = (at: number): Promise<string> =>
      page.evaluate(`(() => {
        const d = new Date(${at}), p = (n) => String(n).padStart(2, '0');
        return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
      })()`) as Promise<string>;
    const localTime = (at: number): Promise<string> => page.evaluate(`new Date(${at}).toLocaleString()`) as Promise<string>;
    const apiStatus = async (id: string): Promise<{ state: string; sendAt: string | null }> =>
      (await (await fetch(`${app?.baseUrl}/api/notifications/${encodeURIComponent(id)}`)).json()) as { state: string; sendAt: string | null };
    /** A whole second this far ahead. */
    const ahead = (ms: number): number => Math.ceil((Date.now() + ms) / 1_000) * 1_000;

    before(async () => {
      // The helpers above drive `page`: from here on, a browser whose clock reads Newfoundland time.
      assert.ok(browser !== undefined && app !== undefined);
      await page.close();
      page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, timezoneId: timeZone });
      page.setDefaultTimeout(30_000);
      page.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${app.baseUrl}/api/console`);
    });

    test('says which time zone the time is in, and refuses a time passed or more than 7 days ahead beside the field', async () => {
      await compose(cancelledText, 'tenant-0, tenant-1', '12 conversations in 2 tenants');
      await page.getByRole('checkbox', { name: 'Send later' }).check();
      const field = page.getByLabel('Send at');
      assert.match((await page.locator('#send-at-hint').textContent()) ?? '', /In your time zone: America\/St_Johns\. From now up to 7 days ahead\./);
      assert.equal(await page.getByRole('button', { name: 'Schedule', exact: true }).isDisabled(), true, 'nothing chosen yet');

      await field.fill(await localValue(Date.now() - 3_600_000));
      await page.locator('#send-at-problems', { hasText: 'That time has passed' }).waitFor();
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByRole('button', { name: 'Schedule', exact: true }).isDisabled(), true);
      assert.match((await page.locator('#form-problems').textContent()) ?? '', /Send later: That time has passed/);

      await field.fill(await localValue(Date.now() + 8 * 24 * 3_600_000));
      await page.locator('#send-at-problems', { hasText: 'more than 7 days ahead' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Schedule', exact: true }).isDisabled(), true);

      const violations = await seriousAccessibilityViolations(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
    });

    test('schedules one: the status says "scheduled for" its local time, the API has the same instant, and Cancel calls it off', async () => {
      const sendAt = ahead(30_000);
      await page.getByLabel('Send at').fill(await localValue(sendAt));
      await page.locator('#send-at[aria-invalid="false"]').waitFor();
      cancelledId = await send('Schedule');

      const shown = `scheduled for ${await localTime(sendAt)}`;
      await state().filter({ hasText: shown }).waitFor();
      const scheduled = await apiStatus(cancelledId);
      assert.deepEqual([scheduled.state, scheduled.sendAt], ['scheduled', new Date(sendAt).toISOString()], 'the local time went out with its offset');
      assert.equal(await page.getByRole('progressbar').getAttribute('aria-valuetext'), 'Not started: it is scheduled');
      const violations = await seriousAccessibilityViolations(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));

      await page.getByRole('button', { name: 'Cancel the scheduled send' }).click();
      await state().filter({ hasText: 'cancelled' }).waitFor();
      await page.locator('#status-problems', { hasText: 'Cancelled before its time: nothing is sent.' }).waitFor();
      assert.equal((await apiStatus(cancelledId)).state, 'cancelled');
      assert.equal(await page.getByRole('button', { name: /Cancel/ }).isHidden(), true, 'nothing left to cancel');
    });

    test('lists a scheduled one in the history with its time, and the progress view takes over when it goes out', async () => {
      await compose(laterText, 'tenant-0, tenant-1', '12 conversations in 2 tenants');
      laterSendAt = ahead(20_000);
      await page.getByLabel('Send at').fill(await localValue(laterSendAt));
      await page.locator('#send-at[aria-invalid="false"]').waitFor();
      const id = await send('Schedule');
      const shown = `scheduled for ${await localTime(laterSendAt)}`;
      await state().filter({ hasText: shown }).waitFor();

      await page.getByRole('button', { name: 'Refresh history' }).click();
      const row = page.locator('#history-rows tr', { has: page.getByRole('button', { name: `Open ${id}` }) });
      await row.locator('td', { hasText: shown }).waitFor();
      const cancelledRow = page.locator('#history-rows tr', { has: page.getByRole('button', { name: `Open ${cancelledId}` }) });
      assert.equal(await cancelledRow.locator('td').first().textContent(), 'cancelled');

      await state().filter({ hasText: 'completed' }).waitFor(slowly);
      await page.locator('#progress[aria-valuenow="100"]').waitFor();
      assert.equal(await count('sent'), 12);
      assert.equal(await count('optedOut'), 0);
      assert.ok(((await page.locator('#status-times').textContent()) ?? '').includes(`${shown}, started`), 'the times still say when it was scheduled for');
      const arrivals = (connector?.received ?? []).filter((activity) => activity.text === laterText);
      assert.equal(arrivals.length, 12, 'each of the 12 got it');
      assert.ok(arrivals.every((activity) => activity.receivedAt >= laterSendAt), 'none before its time');
    });

    test('the cancelled one never goes out, also past its time', async () => {
      assert.ok(app !== undefined);
      await app.waitForOutput(new RegExp(`notificationsPlan: notification ${cancelledId}: dropped`), 60_000);
      assert.deepEqual((connector?.received ?? []).filter((activity) => activity.text === cancelledText), []);
      assert.equal((await apiStatus(cancelledId)).state, 'cancelled');
    });

    test('had no script errors or content security policy violations on the way', () => {
      assert.deepEqual(pageErrors, []);
    });

    test("shows the API's refusal when the browser's clock is two days ahead of the server's", async () => {
      assert.ok(browser !== undefined && app !== undefined);
      const skewed = await browser.newPage({ viewport: { width: 1280, height: 1000 }, timezoneId: timeZone });
      try {
        skewed.setDefaultTimeout(30_000);
        const browserNow = Date.now() + 2 * 24 * 3_600_000;
        await skewed.clock.setFixedTime(browserNow);
        await skewed.goto(`${app.baseUrl}/api/console`);
        page = skewed;
        await compose('Six days ahead by the browser, eight by the server', 'tenant-0', '6 conversations in 1 tenant');
        await page.getByRole('checkbox', { name: 'Send later' }).check();
        await page.getByLabel('Send at').fill(await localValue(browserNow + 6 * 24 * 3_600_000));
        await page.locator('#send-at[aria-invalid="false"]').waitFor();
        await page.getByRole('button', { name: 'Schedule', exact: true }).click();
        await page.locator('#form-problems', { hasText: '"sendAt" is more than 7 days ahead' }).waitFor();
        assert.equal(await page.getByRole('button', { name: 'Schedule', exact: true }).isEnabled(), true, 'it can be corrected and tried again');
      } finally {
        await skewed.close();
      }
    });
  });
});
