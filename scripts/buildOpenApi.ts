import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * `npm run build`'s step for the API document: docs/openapi.yaml, parsed here
 * once, is written as dist/openapi/openapi.json for functions/openapi.ts to
 * serve. The deployed app reads only the JSON, so `yaml` stays a dev dependency
 * and docs/ need not be deployed.
 */

const root = path.resolve(__dirname, '..', '..');
const openApiSource = path.join(root, 'docs', 'openapi.yaml');
const outDir = path.join(root, 'dist', 'openapi');

function buildOpenApi(): void {
  const document: unknown = parse(readFileSync(openApiSource, 'utf8'), { prettyErrors: true });
  if (typeof document !== 'object' || document === null || !('openapi' in document)) {
    throw new Error(`${openApiSource} is not an OpenAPI document (no "openapi" field)`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
}

try {
  buildOpenApi();
} catch (error) {
  console.error('build: docs/openapi.yaml could not be turned into dist/openapi/openapi.json:', error instanceof Error ? error.message : error);
  process.exit(1);
}
