import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../support/appProcess';
import { listOperations, loadOpenApiDocument } from '../support/openApiContract';
import { registeredHttpRoutes, toOpenApiPath } from '../support/registeredRoutes';

/**
 * The routes in functions/ and the API documents agree: a route added
 * without its operation in docs/openapi.yaml (or its line in docs/api.md)
 * fails here, and so does an operation left behind after its route went.
 */
describe('every HTTP route is documented', () => {
  const routes = registeredHttpRoutes();
  const document = loadOpenApiDocument();
  const operations = listOperations(document);
  const registered = routes.flatMap((route) => route.methods.map((method) => ({ ...route, method, key: `${method} ${route.openApiPath}` })));

  test('the routes are read from the compiled functions (the app registers its HTTP functions)', () => {
    const names = routes.map((route) => route.functionName);
    for (const expected of ['messages', 'notify', 'notifications', 'notificationById', 'audiencePreview', 'console', 'consoleAssets', 'openApiDocument']) {
      assert.ok(names.includes(expected), `${expected} is registered (found ${names.join(', ')})`);
    }
    assert.ok(routes.every((route) => route.methods.length > 0));
  });

  test('route templates become OpenAPI paths', () => {
    assert.equal(toOpenApiPath('notifications/{id}'), '/notifications/{id}');
    assert.equal(toOpenApiPath('console/{*asset}'), '/console/{asset}');
    assert.equal(toOpenApiPath('items/{id:int}/{name?}'), '/items/{id}/{name}');
    assert.equal(toOpenApiPath('messages'), '/messages');
  });

  test('every registered route and method has an operation in docs/openapi.yaml', () => {
    const documented = new Set(operations.map((operation) => `${operation.method} ${operation.path}`));
    const missing = registered.filter((route) => !documented.has(route.key)).map((route) => `${route.key} (function ${route.functionName})`);
    assert.deepEqual(missing, [], 'add these operations to docs/openapi.yaml');
  });

  test('every operation in docs/openapi.yaml is a registered route and method', () => {
    const keys = new Set(registered.map((route) => route.key));
    const extra = operations.map((operation) => `${operation.method} ${operation.path}`).filter((key) => !keys.has(key));
    assert.deepEqual(extra, [], 'docs/openapi.yaml documents operations the app does not register');
  });

  test("each operation's security matches its function's auth level: anonymous ones need no key, the others the function key", () => {
    const globalSecurity = document['security'];
    const wrong: string[] = [];
    for (const route of registered) {
      const operation = operations.find((candidate) => `${candidate.method} ${candidate.path}` === route.key);
      if (operation === undefined) continue;
      const security = operation.operation['security'] ?? globalSecurity;
      const schemes = Array.isArray(security) ? security.flatMap((requirement) => Object.keys(requirement as object)) : [];
      const responses = Object.keys(operation.operation['responses'] as object);
      if (route.authLevel === 'anonymous') {
        if (schemes.length > 0) wrong.push(`${route.key} is anonymous but documented with ${schemes.join(', ')}`);
      } else {
        if (!(schemes.includes('functionKeyQuery') && schemes.includes('functionKeyHeader'))) wrong.push(`${route.key} needs the function key but is documented with [${schemes.join(', ')}]`);
        if (!responses.includes('401')) wrong.push(`${route.key} needs the function key but does not document 401`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('every registered route appears in docs/api.md', () => {
    const apiPage = readFileSync(path.join(repoRoot, 'docs', 'api.md'), 'utf8');
    const missing = [...new Set(registered.map((route) => `/api${route.openApiPath}`))].filter((route) => !apiPage.includes(route));
    assert.deepEqual(missing, [], 'mention these routes in docs/api.md');
  });
});
