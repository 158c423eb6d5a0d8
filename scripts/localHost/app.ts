import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** What the local host reads from the app folder, like `func start` does. */
export interface AppDescription {
  readonly appRoot: string;
  /** Absolute paths of the files matched by package.json `main`. */
  readonly functionFiles: readonly string[];
  /** host.json `extensions.http.routePrefix`, default `api`, may be empty. */
  readonly routePrefix: string;
  /** host.json `extensions.queues`, as written (read by queueOptions.ts). */
  readonly queuesExtension: unknown;
}

export function describeApp(appRoot: string): AppDescription {
  const packageJson = readJsonObject(path.join(appRoot, 'package.json'));
  const main = packageJson.main;
  if (typeof main !== 'string' || main.trim() === '') {
    throw new Error(`${path.join(appRoot, 'package.json')} has no "main" naming the compiled function files`);
  }
  const functionFiles = expandGlob(appRoot, main);
  if (functionFiles.length === 0) throw new Error(`package.json "main" (${main}) matches no file under ${appRoot}`);
  const extensions = asObject(readJsonObject(path.join(appRoot, 'host.json')).extensions);
  return { appRoot, functionFiles, routePrefix: readRoutePrefix(extensions), queuesExtension: extensions?.queues };
}

function readRoutePrefix(extensions: Record<string, unknown> | undefined): string {
  const http = asObject(extensions?.http);
  const routePrefix = http?.routePrefix;
  return typeof routePrefix === 'string' ? trimSlashes(routePrefix) : 'api';
}

/**
 * Expands a glob relative to `root`: `*` and `?` within a path segment and
 * `**` for any number of folders (what Functions apps put in `main`).
 */
export function expandGlob(root: string, pattern: string): string[] {
  const segments = pattern.replace(/\\/g, '/').split('/').filter((segment) => segment !== '' && segment !== '.');
  const matches: string[] = [];
  walk(path.resolve(root), segments, matches);
  return [...new Set(matches)].sort();
}

function walk(folder: string, segments: readonly string[], matches: string[]): void {
  const [segment, ...rest] = segments;
  if (segment === undefined) {
    if (isFile(folder)) matches.push(folder);
    return;
  }
  if (segment === '**') {
    walk(folder, rest, matches);
    for (const child of subfolders(folder)) walk(path.join(folder, child), segments, matches);
    return;
  }
  if (!/[*?]/.test(segment)) {
    walk(path.join(folder, segment), rest, matches);
    return;
  }
  const matcher = segmentMatcher(segment);
  for (const entry of entries(folder)) {
    if (matcher.test(entry)) walk(path.join(folder, entry), rest, matches);
  }
}

function segmentMatcher(segment: string): RegExp {
  const source = segment
    .split('')
    .map((char) => (char === '*' ? '[^/]*' : char === '?' ? '[^/]' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

function entries(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}

function subfolders(folder: string): string[] {
  return entries(folder).filter((entry) => entry !== 'node_modules' && !isFile(path.join(folder, entry)));
}

function isFile(filePath: string): boolean {
  try {
    return statSync(filePath).isFile();
  } catch {
    return false;
  }
}

/** A JSON file's object; a missing file reads as {}. */
export function readJsonObject(filePath: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch {
    return {};
  }
  const parsed: unknown = JSON.parse(text);
  const object = asObject(parsed);
  if (object === undefined) throw new Error(`${filePath} is not a JSON object`);
  return object;
}

export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
