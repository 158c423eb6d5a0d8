import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { repoRoot } from './appProcess';

/**
 * docs/openapi.yaml as tests use it: the operations it lists, and a check of
 * an observed HTTP response against the operation's response for that status
 * (headers marked required, content type, body schema):
 *
 *   const contract = loadOpenApiContract();
 *   const problems = contract.check({ method: 'POST', url, status, headers, bodyText });
 *   assert.deepEqual(problems, []);
 *
 * A status the operation does not list is a problem, and so is a URL or a
 * method the document has no operation for.
 */

export const openApiPath = path.join(repoRoot, 'docs', 'openapi.yaml');

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;

export interface DocumentedOperation {
  /** As written in the document, e.g. `/notifications/{id}`. */
  readonly path: string;
  /** Upper case. */
  readonly method: string;
  readonly operation: Json;
  /** JSON pointer of the operation in the document. */
  readonly pointer: string;
}

export interface ObservedResponse {
  readonly method: string;
  /** The full URL requested; its path starts with the server URL (`/api`). */
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly bodyText: string;
}

export interface OpenApiContract {
  readonly document: Json;
  readonly operations: readonly DocumentedOperation[];
  /** The operation a request reaches, the way the host routes it (literal segments before parameters). */
  operationFor(method: string, url: string): DocumentedOperation | undefined;
  /** What is wrong with the response according to the document; empty when it conforms. */
  check(response: ObservedResponse): string[];
  /** Validates a value against the schema at a JSON pointer of the document; the errors, or empty. */
  validateAt(pointer: string, value: unknown): string[];
}

const documentId = 'https://proactive-notifications.invalid/openapi.json';

export function loadOpenApiDocument(file = openApiPath): Json {
  const document: unknown = parse(readFileSync(file, 'utf8'));
  if (!isObject(document)) throw new Error(`${file} is not a YAML mapping`);
  return document;
}

export function loadOpenApiContract(document: Json = loadOpenApiDocument()): OpenApiContract {
  const ajv = new Ajv2020({ strictSchema: true, strictNumbers: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // OpenAPI's own schema keywords, which JSON Schema does not define, and the document's top-level
  // fields: the whole document is added, so that `#/components/schemas/...` references resolve in it.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags']);
  ajv.addSchema({ ...document, $id: documentId } as never);
  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string): ValidateFunction => {
    let validate = compiled.get(pointer);
    if (validate === undefined) {
      const found = ajv.getSchema(`${documentId}#${pointer}`);
      if (found === undefined) throw new Error(`docs/openapi.yaml has no schema at ${pointer}`);
      validate = found;
      compiled.set(pointer, validate);
    }
    return validate;
  };
  const validateAt = (pointer: string, value: unknown): string[] => {
    const validate = validatorAt(pointer);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '(body)'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`);
  };

  const operations = listOperations(document);
  const serverPath = serverPathOf(document);
  const routable = [...operations].sort((a, b) => parameterCount(a.path) - parameterCount(b.path));

  const operationFor = (method: string, url: string): DocumentedOperation | undefined => {
    const pathname = new URL(url, 'http://host').pathname;
    if (!pathname.toLowerCase().startsWith(`${serverPath.toLowerCase()}/`)) return undefined;
    const local = pathname.slice(serverPath.length).replace(/(.)\/$/, '$1');
    return routable.find((candidate) => candidate.method === method.toUpperCase() && templateMatcher(candidate.path).test(local));
  };

  const check = (observed: ObservedResponse): string[] => {
    const where = `${observed.method.toUpperCase()} ${new URL(observed.url).pathname} answered ${observed.status}`;
    const operation = operationFor(observed.method, observed.url);
    if (operation === undefined) return [`${where}: docs/openapi.yaml has no operation for this method and path`];
    const responses = asObject(operation.operation['responses']) ?? {};
    const statusKey = [String(observed.status), `${String(observed.status)[0]}XX`, 'default'].find((key) => key in responses);
    if (statusKey === undefined) {
      return [`${where}: status ${observed.status} is not documented for ${operation.method} ${operation.path} (documented: ${Object.keys(responses).join(', ')})`];
    }
    const { value: response, pointer } = resolveRef(document, responses[statusKey], `${operation.pointer}/responses/${escapePointer(statusKey)}`);
    if (!isObject(response)) return [`${where}: the response for ${statusKey} is not an object in docs/openapi.yaml`];
    const problems = checkHeaders(response, pointer, observed, validateAt).map((problem) => `${where}: ${problem}`);
    const content = asObject(response['content']);
    if (content === undefined) {
      if (observed.bodyText !== '') problems.push(`${where}: the document gives this response no body, but it has one: ${observed.bodyText.slice(0, 200)}`);
      return problems;
    }
    const contentType = (observed.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const mediaKey = Object.keys(content).find((key) => key.toLowerCase() === contentType);
    if (mediaKey === undefined) {
      // A response whose body is optional (the bot's 200 to anything but an invoke) may come without one.
      if (observed.bodyText === '' && statusKey === '200' && mayBeEmpty(response)) return problems;
      problems.push(`${where}: content type "${contentType}" is not documented (documented: ${Object.keys(content).join(', ')})`);
      return problems;
    }
    const media = asObject(content[mediaKey]);
    if (media?.['schema'] === undefined) return problems;
    let body: unknown = observed.bodyText;
    if (/^application\/(?:[\w.+-]+\+)?json$/.test(contentType)) {
      try {
        body = JSON.parse(observed.bodyText);
      } catch {
        problems.push(`${where}: the body is not JSON: ${observed.bodyText.slice(0, 200)}`);
        return problems;
      }
    }
    for (const problem of validateAt(`${pointer}/content/${escapePointer(mediaKey)}/schema`, body)) {
      problems.push(`${where}: body ${problem}; body was ${JSON.stringify(body).slice(0, 600)}`);
    }
    return problems;
  };

  return { document, operations, operationFor, check, validateAt };
}

/** Every operation of `paths`, with the JSON pointer of each. */
export function listOperations(document: Json): DocumentedOperation[] {
  const paths = asObject(document['paths']) ?? {};
  const operations: DocumentedOperation[] = [];
  for (const [pathTemplate, item] of Object.entries(paths)) {
    const pathItem = asObject(item) ?? {};
    for (const method of httpMethods) {
      const operation = asObject(pathItem[method]);
      if (operation !== undefined) {
        operations.push({ path: pathTemplate, method: method.toUpperCase(), operation, pointer: `/paths/${escapePointer(pathTemplate)}/${method}` });
      }
    }
  }
  return operations;
}

/** Follows a `$ref` to a local component (responses may be references); the value and its pointer. */
export function resolveRef(document: Json, value: unknown, pointer: string): { readonly value: unknown; readonly pointer: string } {
  let current = value;
  let at = pointer;
  for (let hops = 0; isObject(current) && typeof current['$ref'] === 'string'; hops++) {
    const ref = current['$ref'];
    if (!ref.startsWith('#/') || hops > 10) throw new Error(`docs/openapi.yaml: cannot follow $ref "${ref}" at ${at}`);
    at = ref.slice(1);
    current = valueAt(document, at);
  }
  return { value: current, pointer: at };
}

export function valueAt(document: Json, pointer: string): unknown {
  let current: unknown = document;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    current = isObject(current) ? current[key] : Array.isArray(current) ? current[Number(key)] : undefined;
  }
  return current;
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function checkHeaders(response: Json, pointer: string, observed: ObservedResponse, validateAt: (pointer: string, value: unknown) => string[]): string[] {
  const problems: string[] = [];
  for (const [name, header] of Object.entries(asObject(response['headers']) ?? {})) {
    const definition = asObject(header) ?? {};
    const value = observed.headers.get(name);
    if (value === null) {
      if (definition['required'] === true) problems.push(`the required header ${name} is missing`);
      continue;
    }
    if (definition['schema'] !== undefined) {
      for (const problem of validateAt(`${pointer}/headers/${escapePointer(name)}/schema`, value)) problems.push(`header ${name}: ${problem} (was "${value}")`);
    }
  }
  return problems;
}

/** The bot's 200 has a body only for invokes; the document says so in words, and the check allows it. */
function mayBeEmpty(response: Json): boolean {
  return typeof response['description'] === 'string' && /no body/i.test(response['description']);
}

function serverPathOf(document: Json): string {
  const servers = Array.isArray(document['servers']) ? document['servers'] : [];
  const first = asObject(servers[0]);
  const url = typeof first?.['url'] === 'string' ? first['url'] : '';
  return new URL(url, 'http://host').pathname.replace(/\/$/, '');
}

function templateMatcher(template: string): RegExp {
  const source = template
    .split('/')
    .map((segment) => segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+'))
    .join('/');
  return new RegExp(`^${source}$`, 'i');
}

function parameterCount(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

function asObject(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
