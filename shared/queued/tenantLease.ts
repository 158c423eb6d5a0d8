import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { toKey } from '../storage/conversationKeys';
import { hasStatus, type Table } from '../storage/tableClient';
import { leasePartition } from './notificationTable';

/**
 * One sender per tenant across every instance: Teams counts 50 messages/s
 * per bot per tenant over all of them, and each process's rate limiter only
 * knows its own sends. A delivery worker first takes its tenant's lease (a
 * row in the notifications table, taken and renewed with its ETag); whoever
 * cannot get it puts its work back on the queue for later.
 *
 * The lease is short (NOTIFICATIONS_TENANT_LEASE_SECONDS, 15 s) and renewed
 * every third of that while the worker sends, so a holder that died is
 * replaced within seconds; a holder whose renewal fails stops sending.
 * A new holder in another process first waits until a second after the last
 * one let go: the channel counts a sliding second, and the previous
 * holder's last sends are in it.
 */

export interface TenantLease {
  /** Aborts when the lease could not be renewed: stop sending at once. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export type LeaseAttempt =
  | { readonly acquired: true; readonly lease: TenantLease }
  /** Someone holds it; try again after about this long. */
  | { readonly acquired: false; readonly retryAfterMs: number };

export interface TenantLeaseOptions {
  readonly leaseMs: number;
  /** How long after the previous holder's end a holder from another process starts sending. Default 1,100 ms. */
  readonly quietMs?: number;
  /** Wall-clock time (shared by instances), ms since the epoch. */
  readonly now?: () => number;
}

interface LeaseRow {
  readonly holder: string;
  readonly process: string;
  readonly expiresAt: number;
  readonly etag: string;
}

/** This process, as lease rows name it. */
const processId = randomUUID();

export class TenantLeases {
  private readonly leaseMs: number;
  private readonly quietMs: number;
  private readonly now: () => number;

  constructor(
    private readonly table: Table,
    options: TenantLeaseOptions,
  ) {
    this.leaseMs = options.leaseMs;
    this.quietMs = options.quietMs ?? 1_500;
    this.now = options.now ?? Date.now;
  }

  async acquire(tenantId: string, holding: string): Promise<LeaseAttempt> {
    const rowKey = `t${toKey(tenantId)}`;
    const holder = `${processId}/${randomUUID()}`;
    const entity = { partitionKey: leasePartition, rowKey, holder, process: processId, holding, expiresAt: this.now() + this.leaseMs };
    let etag: string;
    let previous: LeaseRow | undefined;
    try {
      etag = (await this.table.call('lease', (client) => client.createEntity(entity))).etag ?? '*';
    } catch (error) {
      if (!hasStatus(error, 409)) throw error;
      previous = await this.read(rowKey);
      if (previous === undefined) return { acquired: false, retryAfterMs: 200 };
      const remaining = previous.expiresAt - this.now();
      if (remaining > 0) return { acquired: false, retryAfterMs: Math.min(remaining, this.leaseMs) + 100 };
      try {
        const replaced = { ...entity, expiresAt: this.now() + this.leaseMs };
        etag = (await this.table.call('lease', (client) => client.updateEntity(replaced, 'Replace', { etag: previous?.etag ?? '*' }))).etag ?? '*';
      } catch (updateError) {
        if (hasStatus(updateError, 412) || hasStatus(updateError, 404)) return { acquired: false, retryAfterMs: 500 };
        throw updateError;
      }
    }
    const lease = new HeldLease(this.table, rowKey, etag, this.leaseMs, this.now);
    // The previous holder's sends may still be in the channel's last second; ours would add to them.
    if (previous !== undefined && previous.process !== processId) {
      const quietFor = previous.expiresAt + this.quietMs - this.now();
      if (quietFor > 0) await delay(quietFor);
    }
    return { acquired: true, lease };
  }

  private async read(rowKey: string): Promise<LeaseRow | undefined> {
    try {
      const row = await this.table.call('lease', (client) => client.getEntity<Record<string, unknown>>(leasePartition, rowKey));
      return { holder: String(row['holder']), process: String(row['process']), expiresAt: Number(row['expiresAt']), etag: row.etag };
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }
}

class HeldLease implements TenantLease {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setInterval>;
  private expiresAt: number;
  private renewing: Promise<void> | undefined;
  private released = false;

  constructor(
    private readonly table: Table,
    private readonly rowKey: string,
    private etag: string,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {
    this.expiresAt = now() + leaseMs;
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => {
        this.renewing = undefined;
      });
    }, leaseMs / 3);
  }

  get lost(): AbortSignal {
    return this.controller.signal;
  }

  private async renew(): Promise<void> {
    if (this.released || this.lost.aborted) return;
    const expiresAt = this.now() + this.leaseMs;
    try {
      const result = await this.table.call('lease', (client) =>
        client.updateEntity({ partitionKey: leasePartition, rowKey: this.rowKey, expiresAt }, 'Merge', { etag: this.etag }),
      );
      this.etag = result.etag ?? this.etag;
      this.expiresAt = expiresAt;
    } catch (error) {
      // Taken over (412) or gone (404): someone else sends now. Storage down: we cannot prove we hold it much longer.
      const takenOver = hasStatus(error, 412) || hasStatus(error, 404);
      if (takenOver || this.now() > this.expiresAt - this.leaseMs / 3) {
        this.controller.abort(new Error(`the tenant lease was lost (${error instanceof Error ? error.message : String(error)})`));
      }
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.renewing;
    if (this.lost.aborted) return;
    try {
      await this.table.call('lease', (client) =>
        client.updateEntity({ partitionKey: leasePartition, rowKey: this.rowKey, expiresAt: this.now() }, 'Merge', { etag: this.etag }),
      );
    } catch {
      // Taken over or storage down: the lease lapses by itself.
    }
  }
}
