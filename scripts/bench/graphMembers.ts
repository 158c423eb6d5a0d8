import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { realClock } from '../../shared/clock';
import { loadSettings } from '../../shared/settings';
import { graphDirectoryFromSettings } from '../../shared/graph/graphDirectory';
import type { FakeGraphCounters, FakeGraphSeed, FakeGraphThrottle } from '../fakeGraph';
import { numberedUsers } from '../fakeGraphDirectory';

/**
 * The Graph directory against the fake Graph in a child process, over HTTP on 127.0.0.1:
 * - a group of `members` (50,000) transitive members, read page by page (999 a page);
 * - `lookups` (2,000) addresses, 20 to a $batch;
 * each first without throttling (the baseline), then with `share` (10 %) of answers throttled
 * with a Retry-After of `retryAfter` seconds (1), in the same run. Prints members or lookups per
 * second, lost and duplicated people, 429s and retries, and retries that came before their Retry-After.
 *
 *   npm run bench:graph -- [members=50000] [lookups=2000] [share=0.1] [retryAfter=1]
 */

const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';

interface Run {
  readonly label: string;
  readonly seconds: number;
  readonly asked: number;
  readonly distinct: number;
  readonly duplicates: number;
  readonly httpRequests: number;
  readonly throttled: number;
  readonly retries: number;
  readonly earlyRetries: number;
}

function argument(name: string, fallback: number): number {
  const given = process.argv.slice(2).find((arg) => arg.startsWith(`${name}=`));
  const value = given === undefined ? fallback : Number(given.slice(name.length + 1));
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number, got ${given}`);
  return value;
}

async function startGraphProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'fakeGraph.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const match = /^FAKE_GRAPH_URL=(.+)$/.exec(line);
    if (match?.[1] !== undefined) return { child, url: match[1] };
  }
  throw new Error('the fake Graph process ended before it printed its URL');
}

async function control(url: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}/_fake/${route}`, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (!response.ok) throw new Error(`fake Graph /_fake/${route}: ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

function directoryAt(url: string) {
  const settings = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', MICROSOFT_GRAPH_URL: url });
  return graphDirectoryFromSettings(settings, { clock: realClock });
}

async function readGroup(url: string, label: string, expected: number): Promise<Run> {
  const { directory, client } = directoryAt(url);
  await control(url, 'reset', {});
  const seen: string[] = [];
  const started = performance.now();
  let nextLink: string | undefined;
  do {
    const page = await directory.groupMembers(tenantId, 'everyone', nextLink);
    if (page.outcome !== 'found') throw new Error('the group was not found');
    seen.push(...page.users.map((user) => user.id));
    nextLink = page.nextLink;
  } while (nextLink !== undefined);
  const seconds = (performance.now() - started) / 1_000;
  return summarise(label, seconds, expected, seen, client.stats, (await control(url, 'counters')) as FakeGraphCounters);
}

async function lookUp(url: string, label: string, addresses: readonly string[]): Promise<Run> {
  const { directory, client } = directoryAt(url);
  await control(url, 'reset', {});
  const started = performance.now();
  const lookups = await directory.findUsers(tenantId, addresses);
  const seconds = (performance.now() - started) / 1_000;
  const found = lookups.flatMap((lookup) => (lookup.outcome === 'found' ? [lookup.user.id] : []));
  return summarise(label, seconds, addresses.length, found, client.stats, (await control(url, 'counters')) as FakeGraphCounters);
}

function summarise(label: string, seconds: number, asked: number, seen: readonly string[], stats: { httpRequests: number; retries: number }, counters: FakeGraphCounters): Run {
  const distinct = new Set(seen).size;
  return { label, seconds, asked, distinct, duplicates: seen.length - distinct, httpRequests: stats.httpRequests, throttled: counters.throttled, retries: stats.retries, earlyRetries: counters.earlyRetries };
}

function print(runs: readonly Run[], unit: string): void {
  const baseline = runs[0] as Run;
  console.log(`| run | ${unit}/s | vs baseline | seconds | lost | duplicates | HTTP requests | 429s | retries | early retries |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const run of runs) {
    const rate = run.distinct / run.seconds;
    const baseRate = baseline.distinct / baseline.seconds;
    console.log(
      `| ${run.label} | ${rate.toFixed(0)} | ${((rate / baseRate) * 100).toFixed(0)} % | ${run.seconds.toFixed(2)} | ${run.asked - run.distinct} | ${run.duplicates} | ${run.httpRequests} | ${run.throttled} | ${run.retries} | ${run.earlyRetries} |`,
    );
  }
}

async function main(): Promise<void> {
  const members = argument('members', 50_000);
  const lookups = argument('lookups', 2_000);
  const share = argument('share', 0.1);
  const retryAfterSeconds = argument('retryAfter', 1);
  const users = numberedUsers(members);
  const { child, url } = await startGraphProcess();
  try {
    const seed: FakeGraphSeed = { users, groups: [{ id: 'everyone', memberIds: users.map((user) => user.id) }] };
    await control(url, 'seed', seed);
    const throttle: FakeGraphThrottle = { share, retryAfterSeconds, seed: 1 };
    const addresses = users.slice(0, lookups).map((user) => user.userPrincipalName);
    console.log(`Graph directory against the fake Graph (child process, 127.0.0.1), node ${process.version}`);
    console.log(`\n${members} transitive group members, 999 a page; throttled: ${share * 100} % of answers 429 with Retry-After ${retryAfterSeconds} s\n`);
    const groupRuns = [await readGroup(url, 'baseline (no throttling)', members)];
    await control(url, 'throttle', throttle);
    groupRuns.push(await readGroup(url, `${share * 100} % throttled`, members));
    print(groupRuns, 'members');
    await control(url, 'throttle', {});
    console.log(`\n${lookups} addresses, 20 to a $batch, 4 $batch calls at once, 100 lookups/s per tenant\n`);
    const lookupRuns = [await lookUp(url, 'baseline (no throttling)', addresses)];
    await control(url, 'throttle', throttle);
    lookupRuns.push(await lookUp(url, `${share * 100} % throttled`, addresses));
    print(lookupRuns, 'lookups');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
