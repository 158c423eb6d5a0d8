import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { unzipSync } from 'fflate';
import { startFakeConnector, type FakeConnector } from '../../scripts/fakeConnector';
import { teamsChannel, teamsConversationUpdate, teamsPersonalChat } from '../support/activities';
import { appSettings, repoRoot, startApp, startTestStorage, type AppProcess, type TestStorage } from '../support/appProcess';

/**
 * `npm run package:functions` builds what azd uploads. Here that zip is
 * unpacked into an empty folder, away from the repository and its
 * node_modules, and started through the local host: whatever the app needs at
 * run time and the package lacks (a dev dependency, a file .funcignore drops)
 * shows up as a failure here instead of in Azure.
 */

const runScript = promisify(execFile);

interface LockPackage {
  readonly dev?: boolean;
}

/** The project's lockfile entries that only the dev dependencies need, as `node_modules/...` paths. */
function devOnlyPackagePaths(): string[] {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  return Object.entries(lock.packages)
    .filter(([packagePath, entry]) => packagePath !== '' && entry.dev === true)
    .map(([packagePath]) => packagePath);
}

function unzipInto(zipPath: string, folder: string): string[] {
  const entries = unzipSync(readFileSync(zipPath));
  for (const [name, content] of Object.entries(entries)) {
    if (name.endsWith('/')) continue;
    const target = path.join(folder, ...name.split('/'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  return Object.keys(entries).filter((name) => !name.endsWith('/'));
}

async function storedConversationIds(connectionString: string): Promise<unknown[]> {
  const table = TableClient.fromConnectionString(connectionString, 'conversations', { allowInsecureConnection: true });
  const ids: unknown[] = [];
  for await (const row of table.listEntities<Record<string, unknown>>()) ids.push(row.conversationId);
  return ids;
}

describe('the deployment package of npm run package:functions, unpacked into an empty folder', () => {
  let workFolder: string;
  let zipPath: string;
  let entries: string[];
  let storage: TestStorage;
  let connector: FakeConnector;
  let app: AppProcess | undefined;

  before(async () => {
    workFolder = await mkdtemp(path.join(tmpdir(), 'functions-package-'));
    const { stdout } = await runScript(
      process.execPath,
      [path.join(repoRoot, 'dist', 'scripts', 'functionsPackage', 'package.js'), '--out', path.join(workFolder, 'out')],
      { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
    );
    zipPath = stdout.trimEnd().split('\n').at(-1) ?? '';
    const unpacked = path.join(workFolder, 'unpacked');
    mkdirSync(unpacked);
    entries = unzipInto(zipPath, unpacked);

    storage = await startTestStorage({ queues: true });
    connector = await startFakeConnector();
    app = await startApp({
      appRoot: unpacked,
      // No NODE_PATH: the app resolves its modules from the package's own node_modules only.
      settings: appSettings(storage.connectionString, { NODE_PATH: '', LOCAL_QUEUE_VISIBILITY_SECONDS: '4' }),
      startTimeoutMs: 60_000,
    });
  });

  after(async () => {
    await app?.stop();
    await connector?.stop();
    await storage?.dispose();
    await rm(workFolder, { recursive: true, force: true });
  });

  test('the script prints the path of the zip on its last line', () => {
    assert.equal(zipPath, path.join(workFolder, 'out', 'functions.zip'));
  });

  test('the local host serves the unpacked folder, not the repository', () => {
    assert.ok(app?.output().includes(`serving ${path.join(workFolder, 'unpacked')}`), app?.output());
  });

  test('holds host.json, package.json, the compiled functions and the console, and no tests, tooling, sources or local settings', () => {
    for (const required of ['host.json', 'package.json', 'dist/functions/messages.js', 'dist/console/index.html']) {
      assert.ok(entries.includes(required), `${required} is in the package`);
    }
    const appFiles = entries.filter((name) => !name.startsWith('node_modules/'));
    const unwanted = appFiles.filter((name) =>
      /^(test|scripts|web|functions|shared|appPackage|docs|infra|dist\/test|dist\/scripts)\//.test(name) ||
      /(^|\/)local\.settings[^/]*\.json$/.test(name) ||
      /\.(ts|js\.map)$/.test(name) ||
      ['tsconfig.json', 'package-lock.json', '.funcignore'].includes(name),
    );
    assert.deepEqual(unwanted, []);
  });

  test('its package.json names no scripts and no dev dependencies, and node_modules holds none of what only they need', () => {
    const packageJson = JSON.parse(readFileSync(path.join(workFolder, 'unpacked', 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(packageJson.scripts, undefined);
    assert.equal(packageJson.devDependencies, undefined);
    const devOnly = new Set(devOnlyPackagePaths());
    assert.ok(devOnly.has('node_modules/typescript'), 'the lockfile marks the dev-only packages');
    const present = [...new Set(entries.map((name) => /^(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(name)?.[1]).filter((top) => top !== undefined))];
    assert.deepEqual(present.filter((top) => devOnly.has(top)), []);
  });

  test('POST /api/messages with the bot added to a conversation stores its reference', async () => {
    const response = await fetch(`${app?.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(teamsConversationUpdate(connector.serviceUrl, teamsPersonalChat, 'added')),
    });
    assert.equal(response.status, 200, await response.text());
    assert.ok((await storedConversationIds(storage.connectionString)).includes(teamsPersonalChat.conversationId));
  });

  test('GET /api/console serves the page and the script it names', async () => {
    const page = await fetch(`${app?.baseUrl}/api/console`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const script = /src="(console-[^"]+\.js)"/.exec(await page.text())?.[1];
    assert.ok(script, 'the page names its script');
    const asset = await fetch(`${app?.baseUrl}/api/console/${script}`);
    assert.equal(asset.status, 200);
    assert.ok((await asset.arrayBuffer()).byteLength > 0);
  });

  test('a queued notification to a conversation the bot joined completes, and the channel receives it', async () => {
    const joined = await fetch(`${app?.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(teamsConversationUpdate(connector.serviceUrl, teamsChannel, 'added')),
    });
    assert.equal(joined.status, 200, await joined.text());

    const queued = await fetch(`${app?.baseUrl}/api/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'package-e2e', text: 'Sent by the deployed package' }),
    });
    assert.equal(queued.status, 202, await queued.text());

    let status: { state: string; sent: number; failed: number } = { state: 'queued', sent: 0, failed: 0 };
    for (const deadline = Date.now() + 90_000; !['completed', 'failed', 'cancelled'].includes(status.state); await delay(200)) {
      if (Date.now() > deadline) throw new Error(`the notification stayed ${status.state}:\n${app?.output().slice(-3_000)}`);
      const answer = await fetch(`${app?.baseUrl}/api/notifications/package-e2e`);
      assert.equal(answer.status, 200);
      status = (await answer.json()) as typeof status;
    }
    assert.equal(status.state, 'completed', app?.output().slice(-3_000));
    assert.equal(status.failed, 0);
    const received = connector.received.filter((activity) => activity.text === 'Sent by the deployed package');
    assert.ok(received.some((activity) => activity.conversationId === teamsChannel.conversationId), 'the channel got the notification');
    assert.equal(status.sent, received.length);
  });
});
