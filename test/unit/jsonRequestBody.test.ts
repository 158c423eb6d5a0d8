import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HttpRequest } from '@azure/functions';
import { readJsonBody, type BodySource } from '../../shared/http/jsonRequestBody';

/** As the Functions host hands a request to the Node worker: the body as bytes (a string body would get a text/plain type). */
function request(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): HttpRequest {
  return new HttpRequest({ method: 'POST', url: 'http://localhost/api/x', headers, body: { bytes: Buffer.from(body) } });
}

/** A body that never ends, made of 16 KB chunks on demand, counting what was handed out. */
function endlessBody(headers: Record<string, string> = {}): BodySource & { delivered(): number } {
  let delivered = 0;
  const chunk = new Uint8Array(16 * 1024).fill(0x20);
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        delivered += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { headers: new Headers(headers), body, delivered: () => delivered };
}

describe('readJsonBody', () => {
  it('gives the text of a JSON body within the limit', async () => {
    const read = await readJsonBody(request('{"text":"héllo"}'), 100);
    assert.deepEqual(read, { ok: true, text: '{"text":"héllo"}' });
  });

  it('accepts a body exactly at the limit and refuses one byte more with 413 and a JSON reason', async () => {
    assert.equal((await readJsonBody(request('x'.repeat(64)), 64)).ok, true);
    const read = await readJsonBody(request('x'.repeat(65)), 64);
    assert.deepEqual(read, {
      ok: false,
      refusal: {
        status: 413,
        body: { error: 'RequestBodyTooLarge', message: 'The request body is larger than 64 bytes, the most this endpoint accepts.' },
      },
    });
  });

  it('refuses from Content-Length alone, without reading the body', async () => {
    const source = endlessBody({ 'content-length': String(10 * 1024 * 1024) });
    const read = await readJsonBody(source, 256 * 1024);
    assert.equal(read.ok ? 200 : read.refusal.status, 413);
    assert.equal(source.delivered(), 0);
  });

  it('stops reading a body without Content-Length once it passes the limit', async () => {
    const source = endlessBody();
    const read = await readJsonBody(source, 256 * 1024);
    assert.equal(read.ok ? 200 : read.refusal.status, 413);
    assert.ok(source.delivered() <= 256 * 1024 + 16 * 1024, `read ${source.delivered()} bytes`);
  });

  for (const contentType of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/vnd.api+json', '']) {
    it(`accepts the content type "${contentType}"`, async () => {
      assert.equal((await readJsonBody(request('{}', { 'content-type': contentType }), 100)).ok, true);
    });
  }

  it('accepts a body that claims no content type', async () => {
    assert.equal((await readJsonBody(request('{}', {}), 100)).ok, true);
  });

  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/jsonp']) {
    it(`refuses the content type "${contentType}" with 415 and says what it expects`, async () => {
      const read = await readJsonBody(request('{}', { 'content-type': contentType }), 100);
      assert.equal(read.ok, false);
      if (read.ok) return;
      assert.equal(read.refusal.status, 415);
      assert.equal(read.refusal.body.error, 'UnsupportedMediaType');
      assert.match(read.refusal.body.message, /application\/json/);
    });
  }
});
