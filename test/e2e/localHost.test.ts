import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startApp, type AppProcess } from '../support/appProcess';

const fixtureApp = path.join(repoRoot, 'test', 'fixtures', 'hostApp');

describe('local host serving the fixture app', () => {
  let app: AppProcess;

  before(async () => {
    app = await startApp({ appRoot: fixtureApp, settings: { FIXTURE_TICK_SCHEDULE: '0 0 0 1 1 *' } });
  });
  after(async () => {
    await app?.stop();
  });

  test('an HTTP function answers at /api/<route> with its status, headers and body', async () => {
    const response = await fetch(`${app.baseUrl}/api/created`, { method: 'POST', body: 'thing' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-custom'), 'yes');
    assert.equal(await response.text(), 'created thing');
  });
});
