import { startAzurite, type RunningAzurite } from '../../azurite';
import type { ChangeKind } from '../../fakeConnectorChangeLog';
import { startQueueWorkers } from '../../queueWorkers';
import type { NotificationStatus } from '../../../shared/queued/notificationStatus';
import { recallPass, revisionPass } from '../../../shared/queued/passActions';
import { createServices, type Services } from '../../../shared/services';
import { TableConversationStore } from '../../../shared/storage/tableConversationStore';
import type { ReadMark, ReadReceipt, ReadReceiptStore, SentMessage } from '../../../shared/engagement/readReceiptStore';
import { TableReadReceiptStore } from '../../../shared/engagement/tableReadReceiptStore';
import { benchSettings, deliveriesPerSecond, measure, quietLogger } from '../measure';
import { seedTable } from '../references';
import { withConnector, type RemoteConnector } from '../remoteConnector';
import type { Scenario, SummaryRow } from '../scenario';
import { teamsLike } from '../throughput';
import { sendQueued } from './queued';

const tenants = 10;
const perTenant = 500;
const total = tenants * perTenant;
const limitPerSecond = teamsLike.throttle?.perTenantPerSecond ?? 50;
const latencySeconds = (teamsLike.latencyMs ?? 0) / 1_000;

/**
 * Edit and recall as passes over the ledger (issue 19, "Bench"): 10 tenants x 500 stored conversations,
 * fake connector at 100 ms with Teams' 50 requests/s per tenant, queue work in this process (as `queued`).
 * Each repeat sends a queued notification to all without indexing it for read receipts, then another with
 * (both measured, as baselines), edits the second (every chat's
 * message replaced once) and recalls it (every message deleted once). An edit and a recall are timed from
 * the request to the pass's end (every tenant's pass row done) and set against the channel's bound:
 * (N - 1) / limit + latency + the time to the last tenant's first request, read from the fake's log.
 */
export const passes: Scenario = {
  name: 'passes',
  description:
    "edit and recall passes: 10 tenants x 500 at 100 ms, Teams-like throttling; a queued send without and one with read-receipt indexing (baselines), then an edit and a recall, each against the bound (N-1)/limit + latency + last tenant's first request; --passes-repeats=2",
  async run(context) {
    const repeats = context.flag('passes-repeats', 2);
    const azurite = await startAzurite({ queue: true });
    try {
      return await editAndRecall(azurite, repeats);
    } finally {
      await azurite.stop();
    }
  },
};

interface PassRun {
  readonly seconds: number;
  /** From the request to the last tenant's first accepted change. */
  readonly lastFirstSeconds: number;
  /** From the request to the last accepted change: what the pass's end adds after it shows in the gap to `seconds`. */
  readonly lastChangeSeconds: number;
  readonly boundSeconds: number;
  /** Updated (edit) or removed (recall), as the notification's status says. */
  readonly done: number;
  /** The pass's state and failed count in the status, and its tenants' `unchanged` (chats it found nothing to do for). */
  readonly outcome: string;
  /** Chats the fake never saw changed. */
  readonly lost: number;
  /** Chats changed more than once, and changes of a message already gone (404). */
  readonly duplicated: number;
  readonly requests: number;
  /** TCP connections the app opened to the fake during the pass. */
  readonly connections: number;
  readonly throttled: number;
  readonly ownThrottled: number;
  /** The tenant whose changes ended last: its first and last accepted change (s from the request) and its longest pause (s). */
  readonly slowest: { readonly firstSeconds: number; readonly lastSeconds: number; readonly longestPauseSeconds: number };
}

function shareOfBound(run: PassRun): number {
  return run.boundSeconds / run.seconds;
}

async function editAndRecall(azurite: RunningAzurite, repeats: number): Promise<SummaryRow[]> {
  return withConnector(teamsLike, async (connector) => {
    const settings = benchSettings(azurite.connectionString, `benchpasses${Date.now()}`);
    const store = new TableConversationStore(settings.conversationsStorage, settings.conversationsTable);
    await seedTable(store, connector.serviceUrl, tenants, perTenant);
    const readReceipts = new SwitchableReadReceipts(new TableReadReceiptStore(settings.conversationsStorage, { tableName: `${settings.conversationsTable}reads` }));
    const services = createServices(settings, { store, logger: quietLogger, readReceipts });
    const workers = startQueueWorkers(azurite.connectionString, services.queued);
    const sends: number[] = [];
    const unindexedSends: number[] = [];
    const edits: PassRun[] = [];
    const recalls: PassRun[] = [];
    try {
      for (let repeat = 1; repeat <= repeats; repeat++) {
        readReceipts.indexing = false;
        const unindexed = await measure('send', total, connector, () => sendQueued(services, `bench-passes-unindexed-${Date.now()}`));
        readReceipts.indexing = true;
        unindexedSends.push(deliveriesPerSecond(unindexed));
        console.log(`passes, repeat ${repeat}, send without read-receipt indexing: ${deliveriesPerSecond(unindexed).toFixed(1)} deliveries/s (${unindexed.seconds.toFixed(1)} s); ${unindexed.note}`);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        const id = `bench-passes-${Date.now()}`;
        // measure() resets the fake first: its messages and change log are this notification's alone.
        const send = await measure('send', total, connector, () => sendQueued(services, id));
        sends.push(deliveriesPerSecond(send));
        console.log(`passes, repeat ${repeat}, send: ${deliveriesPerSecond(send).toFixed(1)} deliveries/s (${send.seconds.toFixed(1)} s), ${send.stats.duplicates} duplicates; ${send.note}`);
        let revision = 0;
        const edit = await timePass(connector, services, id, 'update', 0, {
          request: async () => {
            const edited = await services.queued.edit(id, { type: 'message', text: 'Benchmark notification, edited' });
            if (edited.kind !== 'edited') throw new Error(`edit not accepted: ${edited.kind}`);
            revision = edited.status.revision;
            return revisionPass(revision);
          },
          progress: (status) => {
            const progress = status?.revisions.find((entry) => entry.revision === revision);
            return { done: progress?.updated ?? 0, state: progress?.state, failed: progress?.failed };
          },
        });
        edits.push(edit);
        printPass(repeat, 'edit', edit);
        const unknownAfterEdit = (await connector.changes('update')).unknown;
        const recall = await timePass(connector, services, id, 'delete', unknownAfterEdit, {
          request: async () => {
            const recalled = await services.queued.recall(id);
            if (recalled.kind !== 'recalled') throw new Error(`recall not accepted: ${recalled.kind}`);
            return recallPass;
          },
          progress: (status) => ({ done: status?.recall?.removed ?? 0, state: status?.recall?.state, failed: status?.recall?.failed }),
        });
        recalls.push(recall);
        printPass(repeat, 'recall', recall);
      }
    } finally {
      await workers.stop();
    }
    const baseline = `queued send ${sends.map((rate) => rate.toFixed(0)).join(', ')}/s (${unindexedSends.map((rate) => rate.toFixed(0)).join(', ')}/s without read-receipt indexing)`;
    return [passRow('edit (PATCH), every chat updated', edits, baseline), passRow('recall, every message deleted', recalls, baseline)];
  });
}

/** The app's read-receipt index, which the bench turns off for one send of each repeat to show what indexing costs a send. */
class SwitchableReadReceipts implements ReadReceiptStore {
  indexing = true;

  constructor(private readonly index: ReadReceiptStore) {}

  recordSent(messages: readonly SentMessage[]): Promise<void> {
    return this.indexing ? this.index.recordSent(messages) : Promise.resolve();
  }

  receipt(receipt: ReadReceipt): Promise<number> {
    return this.index.receipt(receipt);
  }

  count(notificationId: string): Promise<number> {
    return this.index.count(notificationId);
  }

  list(notificationId: string): Promise<ReadMark[]> {
    return this.index.list(notificationId);
  }

  remove(notificationId: string, budget: number): Promise<number> {
    return this.index.remove(notificationId, budget);
  }
}

/** An edit or a recall: how to make the request, and where its progress shows in the status. */
interface PassUnderTest {
  /** Makes the request; returns the name of the pass it started. */
  request(): Promise<string>;
  progress(status: NotificationStatus | undefined): { readonly done: number; readonly state?: string; readonly failed?: number };
}

/** Times a pass from its request to the end of every tenant's pass row, then reads its status and what the fake saw. */
async function timePass(connector: RemoteConnector, services: Services, id: string, kind: ChangeKind, unknownBefore: number, pass: PassUnderTest): Promise<PassRun> {
  const before = await connector.stats();
  const startedAt = Date.now();
  const started = performance.now();
  const unchanged = await passEnded(services, id, await pass.request());
  const seconds = (performance.now() - started) / 1_000;
  const { done, state, failed } = pass.progress(await services.queued.status(id));
  const outcome = `${state}, ${failed} failed, ${unchanged} unchanged`;
  const after = await connector.stats();
  const changes = await connector.changes(kind);
  const firsts = Object.values(changes.firstAtByTenant);
  const lastFirstSeconds = firsts.length === 0 ? Number.NaN : (Math.max(...firsts) - startedAt) / 1_000;
  const [slowestTenant] = Object.entries(changes.lastAtByTenant).sort(([, a], [, b]) => b - a)[0] ?? [''];
  const slowest = {
    firstSeconds: ((changes.firstAtByTenant[slowestTenant] ?? startedAt) - startedAt) / 1_000,
    lastSeconds: ((changes.lastAtByTenant[slowestTenant] ?? startedAt) - startedAt) / 1_000,
    longestPauseSeconds: (changes.longestPauseByTenant[slowestTenant] ?? 0) / 1_000,
  };
  // Let the throttling windows empty before the next pass or send.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return {
    seconds,
    lastFirstSeconds,
    lastChangeSeconds: (changes.lastAt - startedAt) / 1_000,
    boundSeconds: (perTenant - 1) / limitPerSecond + latencySeconds + lastFirstSeconds,
    done,
    outcome,
    lost: total - changes.conversations,
    duplicated: changes.changedMoreThanOnce + (changes.unknown - unknownBefore),
    requests: after.requests - before.requests,
    connections: after.connections - before.connections,
    throttled: after.throttled - before.throttled,
    ownThrottled: after.throttledByRate - before.throttledByRate,
    slowest,
  };
}

/** Waits until every tenant's pass row of `pass` has ended (done, or stopped some other way); returns their `unchanged` sum. */
async function passEnded(services: Services, id: string, pass: string): Promise<number> {
  for (;;) {
    const records = (await services.queued.deps.passes.list(id)).filter((record) => record.pass === pass);
    if (records.length > 0 && records.every((record) => record.state !== 'active')) return records.reduce((sum, record) => sum + record.unchanged, 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function printPass(repeat: number, name: string, run: PassRun): void {
  console.log(
    `passes, repeat ${repeat}, ${name}: ${run.seconds.toFixed(2)} s from the request to the pass's end (last change accepted at ${run.lastChangeSeconds.toFixed(2)} s); ` +
      `bound ${run.boundSeconds.toFixed(2)} s = ${perTenant - 1}/${limitPerSecond} + ${latencySeconds.toFixed(2)} + ${run.lastFirstSeconds.toFixed(2)} (last tenant's first request); ` +
      `${(100 * shareOfBound(run)).toFixed(1)} % of the bound; status ${run.done} of ${total} (${run.outcome}), fake: ${run.lost} lost, ${run.duplicated} duplicated; ` +
      `${run.requests} requests over ${run.connections} new connections, ${run.throttled} × 429 (${run.ownThrottled} from our pace); ` +
      `the tenant that ended last: ${run.slowest.firstSeconds.toFixed(2)}-${run.slowest.lastSeconds.toFixed(2)} s, longest pause ${run.slowest.longestPauseSeconds.toFixed(2)} s`,
  );
}

function passRow(what: string, runs: readonly PassRun[], baseline: string): SummaryRow {
  return {
    scenario: `${what}, 10 tenants x 500, 100 ms (${runs.length} repeat${runs.length === 1 ? '' : 's'})`,
    result: `${runs.map((run) => `${run.seconds.toFixed(2)} s (${(100 * shareOfBound(run)).toFixed(0)} %)`).join(', ')} of bound ${runs.map((run) => run.boundSeconds.toFixed(2)).join(', ')} s`,
    baseline,
    target: '≥ 95 % of the channel bound; 0 lost, 0 dup',
    met: runs.every((run) => shareOfBound(run) >= 0.95 && run.done === total && run.lost === 0 && run.duplicated === 0),
    detail: runs.map((run) => `${run.done} done, ${run.lost} lost, ${run.duplicated} dup, ${run.throttled} × 429 (${run.ownThrottled} own)`).join('; '),
  };
}
