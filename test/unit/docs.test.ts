import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings } from '../../shared/settings';
import { connectionProperties } from '../../shared/storageConnection';
import { isDisabled, portFromEnv, requestBodySizeLimitFromEnv } from '../../scripts/localHost/host';
import { readQueueOptions } from '../../scripts/localHost/queueOptions';

const repoRoot = join(__dirname, '..', '..', '..');
const readRepoFile = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

type Env = Record<string, string | undefined>;

/** The names a reader of settings asked for, and the connections it enumerated `<name>__*` settings of. */
interface Reads {
  readonly names: Set<string>;
  readonly enumeratedConnections: Set<string>;
}

/**
 * An env that records what is read from it. A read during enumeration
 * (`Object.entries(env)`, which asks for each key's descriptor first) is not a
 * read of that name; the enumeration is credited to the name read just before
 * it, which is how storageConnection.ts looks for `<connection>__*` settings.
 */
function recordingEnv(values: Env, reads: Reads): Env {
  let lastRead: string | undefined;
  const enumerating = new Set<string | symbol>();
  return new Proxy({ ...values }, {
    get(target, key, receiver) {
      if (enumerating.delete(key)) return Reflect.get(target, key, receiver);
      if (typeof key === 'string') {
        reads.names.add(key);
        lastRead = key;
      }
      return Reflect.get(target, key, receiver);
    },
    ownKeys(target) {
      if (lastRead !== undefined) reads.enumeratedConnections.add(lastRead);
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      enumerating.add(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

function newReads(): Reads {
  return { names: new Set(), enumeratedConnections: new Set() };
}

/** Every setting loadSettings reads, found by running it on envs that take each branch that reads settings. */
function settingsReadByLoadSettings(): Set<string> {
  const reads = newReads();
  const envs: Env[] = [
    // A connection string: the conversations connection is looked for as `__*` settings.
    { AzureWebJobsStorage: 'UseDevelopmentStorage=true' },
    // An identity-based AzureWebJobsStorage, and a conversations account of its own.
    { AzureWebJobsStorage__accountName: 'webjobsaccount', CONVERSATIONS_STORAGE_CONNECTION: 'UseDevelopmentStorage=true' },
    // A cloud without built-in endpoints, and an app type that needs a tenant.
    {
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      MicrosoftAppType: 'SingleTenant',
      MicrosoftAppTenantId: 'tenant',
      ChannelService: 'https://botframework.example',
      ToChannelFromBotLoginUrl: 'https://login.example/bot',
      ToChannelFromBotOAuthScope: 'https://api.example',
      ToBotFromChannelTokenIssuer: 'https://api.example',
      ToBotFromChannelOpenIdMetadataUrl: 'https://login.example/openid',
      ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.example/emulator',
      OAuthUrl: 'https://api.example/oauth',
    },
  ];
  for (const env of envs) loadSettings(recordingEnv(env, reads));
  assert.ok(reads.enumeratedConnections.size > 0, 'no storage connection looked for <name>__* settings: the recording env no longer sees it');
  const names = new Set<string>();
  for (const name of reads.names) {
    // `<connection>__*` names read back during enumeration are covered below, property by property.
    if (![...reads.enumeratedConnections].some((connection) => name.startsWith(`${connection}__`))) names.add(name);
  }
  for (const connection of reads.enumeratedConnections) {
    for (const property of connectionProperties) names.add(`${connection}__${property}`);
  }
  return names;
}

/** Names in backticks in the first column of every table row under `## <heading>` (up to the next `## `). */
function documentedNames(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`);
  assert.notEqual(start, -1, `docs/settings.md has no "## ${heading}" section`);
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (!line.startsWith('|') || /^\|\s*(setting|---)/.test(line)) continue;
    const firstCell = line.split('|')[1] ?? '';
    names.push(...[...firstCell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string));
  }
  return names;
}

function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

describe('docs/settings.md', () => {
  const settingsPage = readRepoFile('docs/settings.md');
  const appSettings = ['App settings', "botbuilder's endpoint settings", 'Storage'].flatMap((heading) => documentedNames(settingsPage, heading));

  it('documents every setting loadSettings reads, and documents no setting it does not read', () => {
    const read = settingsReadByLoadSettings();
    assert.deepEqual(sorted(new Set(appSettings)), sorted(read));
  });

  it('lists each app setting once', () => {
    assert.deepEqual(appSettings.filter((name, index) => appSettings.indexOf(name) !== index), []);
  });

  it('documents the host-level settings the local host reads, and only those', () => {
    const reads = newReads();
    const env = recordingEnv({}, reads);
    portFromEnv(env);
    requestBodySizeLimitFromEnv(env);
    isDisabled('<function>', env);
    readQueueOptions({}, env, 2);
    const documented = documentedNames(settingsPage, 'Read by the Functions host');
    // readQueueOptions finds its overrides by prefix: the documented form must change what it reads.
    const queueOverride = 'AzureFunctionsJobHost__extensions__queues__<name>';
    assert.ok(documented.includes(queueOverride));
    assert.equal(readQueueOptions({ batchSize: 8 }, { [queueOverride.replace('<name>', 'batchSize')]: '3' }, 2).batchSize, 3);
    assert.deepEqual(sorted(documented.filter((name) => name !== queueOverride)), sorted(reads.names));
  });

  it('names in local.settings.sample.json only settings this page documents', () => {
    const sample = JSON.parse(readRepoFile('local.settings.sample.json')) as { Values: Record<string, string> };
    const documented = [...appSettings, ...documentedNames(settingsPage, 'Read by the Functions host')];
    const known = (name: string): boolean =>
      documented.includes(name) || documented.some((pattern) => pattern.includes('<') && new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/<[^>]+>/g, '[^.]+')}$`).test(name));
    // FUNCTIONS_WORKER_RUNTIME is the Functions host's own, not the app's.
    assert.deepEqual(Object.keys(sample.Values).filter((name) => name !== 'FUNCTIONS_WORKER_RUNTIME' && !known(name)), []);
  });
});

/** Relative links to Markdown files in a Markdown file, as paths from the repository root. */
function markdownLinks(path: string): string[] {
  const text = readRepoFile(path);
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => (match[1] as string).split('#')[0] as string);
  return targets
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target) && target.endsWith('.md'))
    .map((target) => resolve('/', dirname(path), target).slice(1));
}

/** Links with a fragment to a Markdown page (the page itself when the link is only `#fragment`). */
function markdownAnchors(path: string): { target: string; anchor: string }[] {
  const text = readRepoFile(path);
  return [...text.matchAll(/\]\(([^)\s]*#[^)\s]+)\)/g)]
    .map((match) => (match[1] as string).split('#') as [string, string])
    .filter(([file]) => !/^[a-z]+:/i.test(file) && (file === '' || file.endsWith('.md')))
    .map(([file, anchor]) => ({ target: file === '' ? path : resolve('/', dirname(path), file).slice(1), anchor }));
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function headingSlugs(path: string): Set<string> {
  const headings = readRepoFile(path)
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, ''));
  return new Set(headings.map((heading) => heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));
}

describe('README.md and docs/', () => {
  it('keeps README.md a newcomer page of at most 260 lines', () => {
    const lines = readRepoFile('README.md').split('\n').length;
    assert.ok(lines <= 260, `README.md has ${lines} lines`);
  });

  it('links from README.md into docs/, and every link to a Markdown file resolves', () => {
    const readmeLinks = markdownLinks('README.md');
    assert.ok(readmeLinks.some((target) => target.startsWith('docs/')), 'README.md links to nothing in docs/');
    const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
    const broken = pages.flatMap((page) => markdownLinks(page).filter((target) => !existsSync(join(repoRoot, target))).map((target) => `${page} -> ${target}`));
    assert.deepEqual(broken, []);
  });

  it('links only to headings that exist in the Markdown page linked', () => {
    const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
    const broken = pages.flatMap((page) =>
      markdownAnchors(page)
        .filter(({ target, anchor }) => existsSync(join(repoRoot, target)) && !headingSlugs(target).has(anchor))
        .map(({ target, anchor }) => `${page} -> ${target}#${anchor}`),
    );
    assert.deepEqual(broken, []);
  });

  it('links every page in docs/ from README.md', () => {
    const readmeLinks = new Set(markdownLinks('README.md'));
    const pages = readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
    assert.deepEqual(pages.filter((page) => !readmeLinks.has(page)), []);
  });
});

/** The folder (or file group) of a source file, as docs/architecture.md names it. */
function layerOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'functions') return 'functions/';
  if (path === 'shared/services.ts') return 'shared/services.ts';
  return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : 'shared/*.ts';
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(repoRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `${folder}/${file.split('\\').join('/')}`);
}

describe('docs/architecture.md', () => {
  it('states the dependency order the imports in functions/ and shared/ keep', () => {
    const orderLine = readRepoFile('docs/architecture.md').split('\n').find((line) => line.startsWith('`functions/` →'));
    assert.ok(orderLine, 'docs/architecture.md has no dependency order line starting with `functions/` →');
    const rank = new Map<string, number>();
    orderLine.split('→').forEach((step, index) => {
      for (const match of step.matchAll(/`([^`]+)`/g)) rank.set(match[1] as string, index);
    });
    const wrongWay: string[] = [];
    for (const file of [...sourceFiles('functions'), ...sourceFiles('shared')]) {
      const from = layerOf(file);
      assert.ok(rank.has(from), `${file} is in ${from}, which the dependency order does not name`);
      for (const match of readRepoFile(file).matchAll(/from '(\.[^']+)'/g)) {
        const target = `${resolve('/', dirname(file), match[1] as string).slice(1)}.ts`;
        if (!/^(functions|shared)\//.test(target)) continue;
        const to = layerOf(target);
        if (to !== from && !((rank.get(to) ?? -1) > (rank.get(from) ?? -1))) wrongWay.push(`${file} imports ${target}`);
      }
    }
    assert.deepEqual(wrongWay, []);
  });
});
