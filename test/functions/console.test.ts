import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { consoleAsset, consolePage } from '../../functions/console';
import { createServices, setServices } from '../../shared/services';
import { loadSettings } from '../../shared/settings';
import { MemoryConversationStore } from '../../shared/storage/memoryConversationStore';
import { recordingLogger } from '../support/recordingLogger';

/** The console as the function serves it from the bundle `npm run build` wrote to dist/console/. */

function context(): InvocationContext {
  return new InvocationContext({ functionName: 'console', logHandler: () => undefined });
}

function getPage(url = 'http://localhost:7071/api/console'): Promise<HttpResponseInit> {
  return consolePage(new HttpRequest({ method: 'GET', url }), context());
}

function getAsset(asset: string): Promise<HttpResponseInit> {
  return consoleAsset(
    new HttpRequest({ method: 'GET', url: `http://localhost:7071/api/console/${encodeURIComponent(asset)}`, params: { asset } }),
    context(),
  );
}

function header(response: HttpResponseInit, name: string): string | undefined {
  return (response.headers as Record<string, string> | undefined)?.[name];
}

async function pageText(url?: string): Promise<string> {
  const response = await getPage(url);
  assert.equal(response.status, 200);
  assert.equal(typeof response.body, 'string');
  return response.body as string;
}

function referencedAssets(page: string): string[] {
  return [...page.matchAll(/(?:src|href)="(console-[^"]+)"/g)].map((match) => match[1] as string);
}

before(() => {
  const settings = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', NOTIFY_MAX_MESSAGE_BYTES: '40000' });
  setServices(createServices(settings, { store: new MemoryConversationStore(), logger: recordingLogger() }));
});

after(() => setServices(undefined));

describe('console function: the page', () => {
  it('serves the page as HTML that is revalidated on every load, with a content security policy', async () => {
    const response = await getPage();

    assert.equal(response.status, 200);
    assert.equal(header(response, 'Content-Type'), 'text/html; charset=utf-8');
    assert.equal(header(response, 'Cache-Control'), 'no-cache');
    assert.match(header(response, 'Content-Security-Policy') ?? '', /script-src 'self'/);
    assert.equal(header(response, 'Referrer-Policy'), 'no-referrer');
    assert.match(response.body as string, /<label for="message">Message<\/label>/);
  });

  it('tells the page the message size limit from the app settings', async () => {
    assert.match(await pageText(), /<meta name="notify-max-message-bytes" content="40000">/);
  });

  it('points the page at its own folder, with or without a trailing slash', async () => {
    assert.match(await pageText('http://localhost:7071/api/console'), /<base href="\/api\/console\/">/);
    assert.match(await pageText('http://localhost:7071/api/console/'), /<base href="\/api\/console\/">/);
  });

  it('names a script and a stylesheet with content hashes, both served', async () => {
    const assets = referencedAssets(await pageText());

    assert.equal(assets.length, 2, `expected a script and a stylesheet, got ${JSON.stringify(assets)}`);
    assert.ok(assets.some((name) => /^console-[A-Z0-9]{8}\.js$/.test(name)));
    assert.ok(assets.some((name) => /^console-[A-Z0-9]{8}\.css$/.test(name)));
    for (const name of assets) assert.equal((await getAsset(name)).status, 200, name);
  });
});

describe('console function: assets', () => {
  it('serves the script and the stylesheet with their content types, cached for a year', async () => {
    const assets = referencedAssets(await pageText());
    const script = assets.find((name) => name.endsWith('.js')) as string;
    const stylesheet = assets.find((name) => name.endsWith('.css')) as string;

    const scriptResponse = await getAsset(script);
    assert.equal(header(scriptResponse, 'Content-Type'), 'text/javascript; charset=utf-8');
    assert.equal(header(scriptResponse, 'Cache-Control'), 'public, max-age=31536000, immutable');
    assert.equal(header(scriptResponse, 'X-Content-Type-Options'), 'nosniff');
    assert.ok(Buffer.isBuffer(scriptResponse.body) && scriptResponse.body.length > 10_000, 'the bundle holds the renderer');

    const styleResponse = await getAsset(stylesheet);
    assert.equal(header(styleResponse, 'Content-Type'), 'text/css; charset=utf-8');
    assert.match(String(styleResponse.body), /\.ac-/, 'the renderer\'s stylesheet is bundled too');
  });

  it('answers 404, never cached, for a file the console does not have', async () => {
    const response = await getAsset('console-NOPE1234.js');

    assert.equal(response.status, 404);
    assert.equal(header(response, 'Cache-Control'), 'no-store');
    assert.equal((response.jsonBody as { error: string }).error, 'NotFound');
  });

  it('never serves a file outside the bundle, whatever the path says', async () => {
    for (const asset of [
      '../functions/console.js',
      '../../package.json',
      '..%2f..%2fpackage.json',
      '/etc/passwd',
      'index.html',
      '.',
      '',
      'console-x.js/../../../package.json',
    ]) {
      assert.equal((await getAsset(asset)).status, 404, asset);
    }
  });
});
