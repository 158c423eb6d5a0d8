import { readFileSync } from 'node:fs';
import path from 'node:path';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';

/**
 * `GET /api/openapi.json`: the HTTP API's contract (docs/openapi.yaml, turned
 * into dist/openapi/openapi.json by `npm run build`). Anonymous, so a client
 * generator or Power Automate can read it without a key; it holds no setting
 * and no secret, only the document as written.
 */

const documentFile = path.resolve(__dirname, '..', 'openapi', 'openapi.json');

let documentText: string | undefined;

/** The built document, read once per process; undefined when `npm run build` did not write it. */
function loadDocument(): string | undefined {
  if (documentText !== undefined) return documentText;
  try {
    documentText = readFileSync(documentFile, 'utf8');
  } catch {
    return undefined;
  }
  return documentText;
}

export async function openApiDocument(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const text = loadDocument();
  if (text === undefined) {
    context.error(`openapi: no document at ${documentFile}`);
    return {
      status: 500,
      jsonBody: { error: 'OpenApiNotBuilt', message: 'The API document was not built: run `npm run build` before starting or deploying the app.' },
    };
  }
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' },
    body: text,
  };
}

app.http('openApiDocument', {
  methods: ['GET'],
  authLevel: 'anonymous',
  route: 'openapi.json',
  handler: openApiDocument,
});
