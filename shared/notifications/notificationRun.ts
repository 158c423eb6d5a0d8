// notifications/: what a notification is (request parsing, the timer's plan), how one run
// goes (claim, send, release) and its summary. May import delivery/, engagement/, ledgers/, storage/ and the root utilities.
import { randomUUID } from 'node:crypto';
import type { Broadcast, BroadcastSummary, OptOutCheck } from '../delivery/broadcastTypes';
import type { DeliveryLedger, DeliveryLedgers } from '../ledgers/deliveryLedgers';
import type { ConversationStore } from '../storage/conversationStore';
import { requestFingerprint, type NotificationRequest } from './notificationRequest';
import { sentActivity } from './sentActivity';
import type { Settings } from '../settings';
import { TableUnavailableError } from '../storage/tableClient';

/** Ids of the notifications this process is sending right now. */
export class RunningNotifications {
  private readonly ids = new Set<string>();

  /** False when the id is already running. */
  tryStart(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    return true;
  }

  finish(id: string): void {
    this.ids.delete(id);
  }
}

export interface NotificationDeps {
  readonly broadcast: Broadcast;
  /** Probed before a run, so an outage is told apart from a refused bot (the engine reports both as stoppedEarly). */
  readonly store: Pick<ConversationStore, 'list'>;
  readonly ledgers: DeliveryLedgers;
  /** How long a claim on an id lasts if its run dies without releasing it: longer than any run with the default deadline. */
  readonly leaseMs: number;
  readonly running: RunningNotifications;
  /** The opt-outs for one run (read once per tenant per run); absent when opt-out is turned off. */
  readonly optOuts?: () => OptOutCheck;
}

/** A run ends at its deadline, plus the send attempts still in flight then; a minute covers those. */
export function leaseMsFor(settings: Pick<Settings, 'deadlineSeconds'>): number {
  return settings.deadlineSeconds * 1_000 + 60_000;
}

export type NotificationOutcome =
  /** Every matched recipient was tried (some may have failed: the summary says which). */
  | { readonly kind: 'completed'; readonly summary: BroadcastSummary }
  /** The run gave up before trying everyone, e.g. the bot's credentials were refused. */
  | { readonly kind: 'stoppedEarly'; readonly summary: BroadcastSummary }
  /** The deadline came before everyone was tried; a retry with the same id sends to the rest. */
  | { readonly kind: 'deadlineReached'; readonly summary: BroadcastSummary }
  /** The same id is being sent by an earlier request that has not finished. */
  | { readonly kind: 'alreadyRunning'; readonly id: string }
  /** The id was first used for another message or target: nothing was sent. */
  | { readonly kind: 'idReused'; readonly id: string }
  /** The conversation table or the ledger could not be reached before the run began: nothing was sent. */
  | { readonly kind: 'storageUnavailable'; readonly id: string; readonly message: string };

/**
 * Sends one notification. With a client-chosen id the run is idempotent:
 * recipients the ledger already holds are skipped, and a second request with
 * the same id while the first is running is refused (in this process, and on
 * other instances through the ledger's claim).
 */
export async function sendNotification(deps: NotificationDeps, request: NotificationRequest): Promise<NotificationOutcome> {
  const id = request.id ?? randomUUID();
  if (!deps.running.tryStart(id)) return { kind: 'alreadyRunning', id };
  try {
    const start = await startRun(deps, id, request);
    if (start.kind !== 'started') return start;
    try {
      const summary = await deps.broadcast({
        id,
        activity: sentActivity(request, id),
        ...(request.filter === undefined ? {} : { filter: request.filter }),
        ...(start.ledger === undefined ? {} : { ledger: start.ledger }),
        ...(request.deadlineSeconds === undefined ? {} : { deadlineSeconds: request.deadlineSeconds }),
        ...(deps.optOuts === undefined ? {} : { optOuts: deps.optOuts() }),
      });
      if (summary.stoppedEarly !== undefined) return { kind: 'stoppedEarly', summary };
      return summary.notAttempted > 0 ? { kind: 'deadlineReached', summary } : { kind: 'completed', summary };
    } finally {
      await start.release();
    }
  } finally {
    deps.running.finish(id);
  }
}

type RunStart =
  | { readonly kind: 'started'; readonly ledger?: DeliveryLedger; release(): Promise<void> }
  | Extract<NotificationOutcome, { readonly kind: 'alreadyRunning' | 'idReused' | 'storageUnavailable' }>;

/**
 * Probes the conversation table and claims the id. Only an outage here means
 * nothing was sent; once the engine runs, it reports store failures itself.
 */
async function startRun(deps: NotificationDeps, id: string, request: NotificationRequest): Promise<RunStart> {
  try {
    await deps.store.list({ pageSize: 1 });
    if (request.id === undefined) return { kind: 'started', release: async () => {} };
    const leaseMs = request.deadlineSeconds === undefined ? deps.leaseMs : leaseMsFor({ deadlineSeconds: request.deadlineSeconds });
    const claim = await deps.ledgers.claim(id, leaseMs, requestFingerprint(request));
    if (!claim.claimed) return { kind: claim.reason === 'reused' ? 'idReused' : 'alreadyRunning', id };
    return { kind: 'started', ledger: claim.ledger, release: claim.release };
  } catch (error) {
    if (error instanceof TableUnavailableError) return { kind: 'storageUnavailable', id, message: error.message };
    throw error;
  }
}
