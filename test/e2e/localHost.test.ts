import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startApp, type AppProcess } from '../support/appProcess';
import { startCallbackServer, type CallbackServer } from '../support/callbackServer';

const fixtureApp = path.join(repoRoot, 'test', 'fixtures', 'hostApp');
const fixtureAppWithoutPrefix = path.join(repoRoot, 'test', 'fixtures', 'hostAppNoPrefix');
const neverInTests = '0 0 0 1 1 *';

interface TimerReport {
  readonly functionName: string;
  readonly isPastDue: boolean;
}

/** The first report from `functionName`; rejects after 15 s so a broken timer fails instead of hanging. */
async function firstReport(callbacks: CallbackServer<TimerReport>, functionName: string): Promise<TimerReport> {
  const [report] = await callbacks.waitFor((candidate) => candidate.functionName === functionName, 1, 15_000);
  if (report === undefined) throw new Error(`no report from ${functionName}`);
  return report;
}

/** Sends what fetch refuses to send (a raw request target, any Host header) and resolves with the status. */
async function rawStatus(port: number, method: string, target: string, headers: OutgoingHttpHeaders = {}): Promise<number> {
  const request = httpRequest({ host: '127.0.0.1', port, method, path: target, headers: { connection: 'close', ...headers } });
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  response.resume();
  return response.statusCode ?? 0;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('the local host serving the fixture app', () => {
  let callbacks: CallbackServer<TimerReport>;
  let app: AppProcess;

  before(async () => {
    callbacks = await startCallbackServer<TimerReport>();
    app = await startApp({
      appRoot: fixtureApp,
      settings: {
        FIXTURE_CALLBACK_URL: callbacks.url,
        FIXTURE_TICK_SCHEDULE: neverInTests,
        'AzureWebJobs.disabledRoute.Disabled': 'true',
        'AzureWebJobs.disabledTick.Disabled': 'True',
      },
    });
  });
  after(async () => {
    await app?.stop();
    await callbacks?.close();
  });

  test('an HTTP function answers at /api/<function name> with its status, headers, cookies and body', async () => {
    const response = await fetch(`${app.baseUrl}/api/created`, { method: 'POST', body: 'thing' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-custom'), 'yes');
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.equal(response.headers.get('set-cookie'), 'session=abc; Path=/; HttpOnly');
    assert.equal(await response.text(), 'created thing');
  });

  test('route parameters, optional parameters and repeated query values reach the handler', async () => {
    const withId = await json(await fetch(`${app.baseUrl}/api/echo/42?tag=a&tag=b&q=x%20y`));
    assert.deepEqual(withId.params, { id: '42' });
    assert.deepEqual(withId.repeatedQuery, ['a', 'b']);
    assert.equal((withId.query as Record<string, string>).q, 'x y');

    const withoutId = await json(await fetch(`${app.baseUrl}/api/echo`));
    assert.deepEqual(withoutId.params, {});
    assert.equal((await fetch(`${app.baseUrl}/api/echo/1/2`)).status, 404);
  });

  test('route constraints decide which function answers, a literal route wins over a parameter and a mismatch is 404', async () => {
    assert.deepEqual(await json(await fetch(`${app.baseUrl}/api/items/12`)), { route: 'itemById', id: '12' });
    assert.deepEqual(await json(await fetch(`${app.baseUrl}/api/items/special`)), { route: 'itemSpecial' });
    assert.equal((await fetch(`${app.baseUrl}/api/items/twelve`)).status, 404);
    assert.deepEqual(await json(await fetch(`${app.baseUrl}/api/files/report.pdf`)), { name: 'report', extension: 'pdf' });
    assert.equal((await fetch(`${app.baseUrl}/api/files/report.123`)).status, 404);
  });

  test('a catch-all parameter takes the rest of the path and a default value fills a missing parameter', async () => {
    assert.deepEqual(await json(await fetch(`${app.baseUrl}/api/docs/guide/setup%20steps.md`)), { path: 'guide/setup steps.md' });
    assert.deepEqual(await json(await fetch(`${app.baseUrl}/api/docs`)), { path: null });
    assert.equal(await (await fetch(`${app.baseUrl}/api/greet`)).text(), 'language en');
    assert.equal(await (await fetch(`${app.baseUrl}/api/greet/fr`)).text(), 'language fr');
    assert.equal((await fetch(`${app.baseUrl}/api/greet/french`)).status, 404);
  });

  test('routes match case-insensitively and the route prefix is required', async () => {
    assert.equal((await fetch(`${app.baseUrl}/API/Items/Special`)).status, 200);
    assert.equal((await fetch(`${app.baseUrl}/items/special`)).status, 404);
  });

  test('a method the function does not accept gets 405 with the allowed methods', async () => {
    const response = await fetch(`${app.baseUrl}/api/items/12`, { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
  });

  test('method, URL, headers and a JSON body round-trip through the package HttpRequest', async () => {
    const body = JSON.stringify({ hello: 'wörld', list: [1, 2] });
    const echoed = await json(
      await fetch(`${app.baseUrl}/api/echo/7?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test': 'header value' },
        body,
      }),
    );
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.url, `${app.baseUrl}/api/echo/7?x=1`);
    assert.equal(echoed.testHeader, 'header value');
    assert.equal(echoed.contentType, 'application/json');
    assert.equal(echoed.body, body);
  });

  test('an unknown route is 404', async () => {
    assert.equal((await fetch(`${app.baseUrl}/api/nothing-here`)).status, 404);
    assert.equal((await fetch(`${app.baseUrl}/`)).status, 404);
  });

  test('a handler that throws gets 500, the error is logged and the host keeps serving', async () => {
    const response = await fetch(`${app.baseUrl}/api/boom`);
    assert.equal(response.status, 500);
    assert.equal((await fetch(`${app.baseUrl}/api/ping`)).status, 200);
    await app.waitForOutput('boom on purpose');
    assert.match(app.output(), /Executed 'Functions\.boom' \(Failed, Id=[\w-]+, Duration=\d+ms\)/);
  });

  test('every invocation is logged with function name, outcome and duration', async () => {
    await fetch(`${app.baseUrl}/api/ping`);
    await app.waitForOutput(/Executed 'Functions\.ping' \(Succeeded, Id=[\w-]+, Duration=\d+ms\) GET \/api\/ping -> 200/);
  });

  test('preInvocation and postInvocation hooks registered with app.hook run around the handler', async () => {
    const response = await fetch(`${app.baseUrl}/api/hooked`);
    assert.equal(await response.text(), 'pre-invocation hook ran: true; handler said: {"body":"from the handler"}');
  });

  test('a timer with runOnStartup runs once when the host starts', async () => {
    const report = await firstReport(callbacks, 'startupTick');
    assert.equal(report.isPastDue, false);
  });

  test('POST /admin/functions/<name> runs a timer function by hand and answers 202', async () => {
    const response = await fetch(`${app.baseUrl}/admin/functions/manualTick`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: '' }),
    });
    assert.equal(response.status, 202);
    assert.deepEqual(await firstReport(callbacks, 'manualTick'), { functionName: 'manualTick', isPastDue: false });
  });

  test('POST /admin/functions/<name> answers 404 for an unknown function and 400 for an HTTP function', async () => {
    const run = (name: string): Promise<Response> =>
      fetch(`${app.baseUrl}/admin/functions/${name}`, { method: 'POST', body: JSON.stringify({ input: '' }) });
    assert.equal((await run('noSuchFunction')).status, 404);
    assert.equal((await run('ping')).status, 400);
  });

  test('POST /admin/functions/<name> answers 404 when the name is not valid percent-encoding', async () => {
    const response = await fetch(`${app.baseUrl}/admin/functions/%E0`, { method: 'POST', body: '{"input":""}' });
    assert.equal(response.status, 404);
  });

  test('POST /admin/functions/<name> answers 400 when the body is not JSON', async () => {
    const response = await fetch(`${app.baseUrl}/admin/functions/manualTick`, { method: 'POST', body: '{input:' });
    assert.equal(response.status, 400);
  });

  test('a query string or route value that is not valid percent-encoding reaches the handler instead of failing', async () => {
    const response = await fetch(`${app.baseUrl}/api/echo/%E0?q=%E0&%=%ZZ`);
    assert.equal(response.status, 200);
    const echoed = await json(response);
    assert.deepEqual(echoed.params, { id: '%E0' });
    assert.equal(echoed.url, `${app.baseUrl}/api/echo/%E0?q=%E0&%=%ZZ`);
  });

  test('a Host header that is not a host, or a request target that is not a URL, gets 400', async () => {
    assert.equal(await rawStatus(app.port, 'GET', '/api/ping', { host: 'not a host' }), 400);
    assert.equal(await rawStatus(app.port, 'GET', '/api/ping', { host: '[::1' }), 400);
    assert.equal(await rawStatus(app.port, 'GET', '/api/ping', { host: 'user@127.0.0.1' }), 400);
    assert.equal(await rawStatus(app.port, 'GET', 'http://[/api/ping'), 400);
    assert.equal(await rawStatus(app.port, 'GET', '/api/ping', { host: `localhost:${app.port}` }), 200);
  });

  test('a path that starts with // is a path, not another host', async () => {
    assert.equal(await rawStatus(app.port, 'GET', '//elsewhere/api/ping'), 404);
  });

  test('a function disabled with AzureWebJobs.<name>.Disabled is not served, scheduled or runnable by hand', async () => {
    assert.equal((await fetch(`${app.baseUrl}/api/disabledRoute`)).status, 404);
    const manualRun = await fetch(`${app.baseUrl}/admin/functions/disabledTick`, { method: 'POST', body: '{"input":""}' });
    assert.equal(manualRun.status, 404);
    await app.waitForOutput(/disabledTick: disabled/);
    // startupTick (runOnStartup too) has reported by now; the disabled one never ran.
    await firstReport(callbacks, 'startupTick');
    assert.ok(!callbacks.reports.some((report) => report.functionName === 'disabledTick'));
  });
});

describe('the local host scheduling timers from app settings', () => {
  let callbacks: CallbackServer<TimerReport>;
  let app: AppProcess | undefined;

  before(async () => {
    callbacks = await startCallbackServer<TimerReport>();
  });
  after(async () => {
    await app?.stop();
    await callbacks?.close();
  });

  test('a %SETTING% schedule is resolved from the app settings and the timer runs on it', async () => {
    app = await startApp({
      appRoot: fixtureApp,
      settings: { FIXTURE_CALLBACK_URL: callbacks.url, FIXTURE_TICK_SCHEDULE: '* * * * * *' },
    });
    await app.waitForOutput(/scheduledTick: timerTrigger \(\* \* \* \* \* \*, next /);
    const report = await firstReport(callbacks, 'scheduledTick');
    assert.equal(report.isPastDue, false);
  });
});

describe('the local host with an empty route prefix and a missing schedule setting', () => {
  let app: AppProcess;

  before(async () => {
    app = await startApp({ appRoot: fixtureAppWithoutPrefix, settings: {} });
  });
  after(async () => {
    await app?.stop();
  });

  test('routes are served without a prefix when host.json sets routePrefix to ""', async () => {
    assert.equal(await (await fetch(`${app.baseUrl}/ping`)).text(), 'pong');
    assert.equal((await fetch(`${app.baseUrl}/api/ping`)).status, 404);
  });

  test('a timer whose schedule setting is missing is reported and the other functions still run', async () => {
    await app.waitForOutput(/Timer function 'scheduledTick' is not scheduled: .*FIXTURE_TICK_SCHEDULE/);
    assert.equal((await fetch(`${app.baseUrl}/items/special`)).status, 200);
  });
});
