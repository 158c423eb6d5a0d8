import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { repoRoot } from '../support/appProcess';
import { escapePointer, listOperations, loadOpenApiContract, loadOpenApiDocument, resolveRef } from '../support/openApiContract';

/** docs/openapi.yaml on its own: a valid OpenAPI 3.1 document whose examples are examples of its schemas. */
describe('the OpenAPI document', () => {
  const document = loadOpenApiDocument();

  test('docs/openapi.yaml is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    assert.equal(validator.version, '3.1');
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  test('every example in the document is valid against the schema it illustrates', () => {
    const contract = loadOpenApiContract(document);
    const problems: string[] = [];
    let examples = 0;
    const checkMedia = (media: unknown, pointer: string): void => {
      const { value, pointer: at } = resolveRef(document, media, pointer);
      const entry = value as { schema?: unknown; example?: unknown; examples?: Record<string, { value?: unknown }> };
      if (entry.schema === undefined) return;
      const samples: [string, unknown][] = [];
      if (entry.example !== undefined) samples.push(['example', entry.example]);
      for (const [name, example] of Object.entries(entry.examples ?? {})) samples.push([`examples/${name}`, example.value]);
      for (const [name, sample] of samples) {
        examples++;
        for (const problem of contract.validateAt(`${at}/schema`, sample)) problems.push(`${at}/${name}: ${problem}`);
      }
    };
    for (const { operation, pointer } of listOperations(document)) {
      const requestBody = operation['requestBody'];
      if (requestBody !== undefined) {
        const { value, pointer: at } = resolveRef(document, requestBody, `${pointer}/requestBody`);
        for (const media of Object.keys((value as { content?: object }).content ?? {})) {
          checkMedia((value as { content: Record<string, unknown> }).content[media], `${at}/content/${escapePointer(media)}`);
        }
      }
      for (const [status, response] of Object.entries((operation['responses'] ?? {}) as Record<string, unknown>)) {
        const { value, pointer: at } = resolveRef(document, response, `${pointer}/responses/${status}`);
        const content = ((value as { content?: Record<string, unknown> }).content ?? {}) as Record<string, unknown>;
        for (const media of Object.keys(content)) checkMedia(content[media], `${at}/content/${escapePointer(media)}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(examples >= 30, `the document has examples to check (found ${examples})`);
  });

  test('a request example that breaks the schema is caught, so the example check can fail', () => {
    const contract = loadOpenApiContract(document);
    const pointer = '/components/requestBodies/Notification/content/application~1json/schema';
    assert.deepEqual(contract.validateAt(pointer, { text: 'Hello' }), []);
    assert.notDeepEqual(contract.validateAt(pointer, { text: 'Hello', extra: true }), []);
    assert.notDeepEqual(contract.validateAt(pointer, { target: { tenantIds: ['t'] } }), [], 'a message is required');
  });

  test('every operation has a unique operationId, a summary, and a response for each status it lists', () => {
    const ids = listOperations(document).map(({ operation }) => operation['operationId']);
    assert.ok(ids.every((id) => typeof id === 'string'), 'every operation has an operationId');
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const { operation, method, path: route } of listOperations(document)) {
      assert.equal(typeof operation['summary'], 'string', `${method} ${route} has a summary`);
      const statuses = Object.keys(operation['responses'] as object);
      assert.ok(statuses.some((status) => status.startsWith('2')), `${method} ${route} documents its success`);
      assert.ok(statuses.every((status) => /^[1-5][0-9][0-9]$/.test(status)), `${method} ${route} lists exact statuses, no ranges or default`);
    }
  });

  test("the document's version is the app's (package.json)", () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal((document['info'] as { version?: unknown }).version, version);
  });

  test('the built JSON the app serves is the YAML document, converted', () => {
    const built = JSON.parse(readFileSync(path.join(repoRoot, 'dist', 'openapi', 'openapi.json'), 'utf8')) as unknown;
    assert.deepEqual(built, document, 'run `npm run build` after editing docs/openapi.yaml');
  });
});
