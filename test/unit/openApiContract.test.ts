import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadOpenApiContract, type ObservedResponse } from '../support/openApiContract';

/** The response check the end-to-end conformance suite relies on: it passes what the document says and catches the rest. */
describe('checking a response against docs/openapi.yaml', () => {
  const contract = loadOpenApiContract();
  const accepted = { id: 'release-1', state: 'queued', statusUrl: '/api/notifications/release-1' };
  const response = (overrides: Partial<ObservedResponse> & { json?: unknown; contentType?: string; extraHeaders?: Record<string, string> }): ObservedResponse => ({
    method: overrides.method ?? 'POST',
    url: overrides.url ?? 'http://127.0.0.1:7071/api/notifications',
    status: overrides.status ?? 202,
    headers: new Headers({
      'content-type': overrides.contentType ?? 'application/json',
      ...(overrides.extraHeaders ?? { location: '/api/notifications/release-1' }),
    }),
    bodyText: overrides.bodyText ?? JSON.stringify(overrides.json ?? accepted),
  });

  test('a response as documented has no problem', () => {
    assert.deepEqual(contract.check(response({})), []);
  });

  test('a status the operation does not list is a problem that names the documented ones', () => {
    const [problem, ...rest] = contract.check(response({ status: 201 }));
    assert.equal(rest.length, 0);
    assert.match(problem ?? '', /status 201 is not documented for POST \/notifications \(documented: 202, 400, 401, 409, 413, 415, 503\)/);
  });

  test('a missing field, an extra field or a wrong value in the body is a problem', () => {
    const { statusUrl: _dropped, ...withoutUrl } = accepted;
    assert.match(contract.check(response({ json: withoutUrl })).join('\n'), /must have required property 'statusUrl'/);
    assert.match(contract.check(response({ json: { ...accepted, extra: 1 } })).join('\n'), /must NOT have additional properties/);
    assert.match(contract.check(response({ json: { ...accepted, state: 'sending' } })).join('\n'), /\/state must be equal to one of the allowed values/);
  });

  test('an undocumented content type, a body that is not JSON and a missing required header are problems', () => {
    assert.match(contract.check(response({ contentType: 'text/plain' })).join('\n'), /content type "text\/plain" is not documented/);
    assert.match(contract.check(response({ bodyText: '{not json' })).join('\n'), /the body is not JSON/);
    assert.match(contract.check(response({ extraHeaders: {} })).join('\n'), /the required header Location is missing/);
  });

  test('a path or a method the document has no operation for is a problem', () => {
    assert.match(contract.check(response({ url: 'http://127.0.0.1:7071/api/unknown' })).join('\n'), /no operation for this method and path/);
    assert.match(contract.check(response({ method: 'PUT' })).join('\n'), /no operation for this method and path/);
  });

  test('a literal path is matched before a parameter one, as the host routes it', () => {
    assert.equal(contract.operationFor('POST', 'http://host/api/notifications/preview')?.operation['operationId'], 'previewAudience');
    assert.equal(contract.operationFor('GET', 'http://host/api/notifications/preview')?.operation['operationId'], 'getNotification');
    assert.equal(contract.operationFor('GET', 'http://host/api/notifications/abc/')?.path, '/notifications/{id}');
  });
});
