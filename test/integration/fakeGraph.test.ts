import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { numberedUsers, startFakeGraph, type FakeGraph, type FakeGraphCounters } from '../../scripts/fakeGraph';

let graph: FakeGraph | undefined;

afterEach(async () => {
  await graph?.stop();
  graph = undefined;
});

async function call(url: string, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${url}${route}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

function bearerFor(tenantId: string): Record<string, string> {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return { authorization: `Bearer ${part({ alg: 'none' })}.${part({ tid: tenantId })}.` };
}

describe('the fake Microsoft Graph', () => {
  it('answers a $batch by request id (in another order), and refuses more than 20 requests with 400', async () => {
    graph = await startFakeGraph({ seed: { users: numberedUsers(2) } });
    const requests = [
      { id: 'a', method: 'GET', url: '/users/user-1' },
      { id: 'b', method: 'GET', url: '/users/nobody@contoso.com' },
      { id: 'c', method: 'GET', url: "/users?$filter=mail eq 'USER-2@contoso.com'&$select=id" },
    ];
    const answer = await call(graph.url, 'POST', '/v1.0/$batch', { requests });
    assert.equal(answer.status, 200);
    const byId = Object.fromEntries(answer.body.responses.map((response: { id: string }) => [response.id, response]));
    assert.deepEqual([byId.a.status, byId.b.status, byId.c.status], [200, 404, 200]);
    assert.deepEqual(byId.c.body.value, [{ id: 'user-2' }]);
    assert.notDeepEqual(answer.body.responses.map((response: { id: string }) => response.id), ['a', 'b', 'c']);

    const tooMany = Array.from({ length: 21 }, (_, index) => ({ id: String(index), method: 'GET', url: '/users/user-1' }));
    assert.equal((await call(graph.url, 'POST', '/v1.0/$batch', { requests: tooMany })).status, 400);
  });

  it('pages transitive members with @odata.nextLink and refuses a page larger than 999', async () => {
    const users = numberedUsers(2_500);
    graph = await startFakeGraph({ seed: { users, groups: [{ id: 'g', memberIds: users.map((user) => user.id) }] } });
    let route: string | undefined = '/v1.0/groups/g/transitiveMembers/microsoft.graph.user?$top=999&$select=id';
    const pageSizes: number[] = [];
    while (route !== undefined) {
      const page = await call(graph.url, 'GET', route);
      pageSizes.push(page.body.value.length);
      route = page.body['@odata.nextLink']?.slice(graph.url.length);
    }
    assert.deepEqual(pageSizes, [999, 999, 502]);
    assert.equal((await call(graph.url, 'GET', '/v1.0/groups/g/transitiveMembers/microsoft.graph.user?$top=1000')).status, 400);
  });

  it('counts a retry that comes back before its Retry-After, and not one that waited', async () => {
    graph = await startFakeGraph({ seed: { users: numberedUsers(1) }, throttle: { share: 1, retryAfterSeconds: 0.2 } });
    const first = await call(graph.url, 'GET', '/v1.0/users/user-1');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '0.2');
    await call(graph.url, 'GET', '/v1.0/users/user-1');
    assert.equal(graph.counters.earlyRetries, 1);
    await delay(300);
    await call(graph.url, 'GET', '/v1.0/users/user-1');
    assert.equal(graph.counters.earlyRetries, 1);
  });

  it('limits each tenant (the tid of its token) on its own', async () => {
    graph = await startFakeGraph({ seed: { users: numberedUsers(1) }, throttle: { perTenantPerSecond: 2 } });
    const statuses = async (tenant: string): Promise<number[]> => {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await call(graph!.url, 'GET', `/v1.0/users/user-1?n=${i}`, undefined, bearerFor(tenant))).status);
      return answers;
    };
    assert.deepEqual(await statuses('tenant-a'), [200, 200, 429]);
    assert.deepEqual(await statuses('tenant-b'), [200, 200, 429]);
  });

  it('runs as a process, printing its URL, with its controls over HTTP', async () => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'fakeGraph.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let url = '';
      for await (const line of createInterface({ input: child.stdout })) {
        url = /^FAKE_GRAPH_URL=(.+)$/.exec(line)?.[1] ?? '';
        if (url !== '') break;
      }
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await call(url, 'POST', '/_fake/seed', { users: [{ id: 'u-1', userPrincipalName: 'alice@contoso.com' }] })).status, 204);
      assert.equal((await call(url, 'GET', '/v1.0/users/alice@contoso.com')).body.id, 'u-1');
      await call(url, 'POST', '/_fake/refuse', { permissions: ['User.Read.All'] });
      const refused = await call(url, 'GET', '/v1.0/users/alice@contoso.com');
      assert.deepEqual([refused.status, refused.body.error.code], [403, 'Authorization_RequestDenied']);
      const counters = (await call(url, 'GET', '/_fake/counters')).body as FakeGraphCounters;
      assert.deepEqual([counters.requests, counters.refused], [2, 1]);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
