import type { QueueClient } from '@azure/storage-queue';
import type { StorageConnection } from '../settings';
import { queueClientFor } from '../storage/storageClients';
import { notificationIdPattern } from '../notifications/notificationRequest';

/**
 * The two work queues and their messages. A message names the work, never
 * the audience or the text: a notification id (planning), or an id and a
 * tenant (delivery). Where the work goes on from (the continuation) is the
 * checkpoint in the notifications table, so a late or duplicated message can
 * never rewind it; messages stay a few hundred bytes, far below the 64 KB limit.
 *
 * Messages are JSON, base64-encoded: the Functions host's default
 * `messageEncoding`, which its queue trigger decodes before the function sees it.
 */

export const planQueueName = 'notifications-plan';
export const deliverQueueName = 'notifications-deliver';

export interface PlanMessage {
  readonly id: string;
}

export interface DeliverMessage {
  readonly id: string;
  readonly tenantId: string;
  /**
   * Set for a pass over the tenant's delivered chats (an edit, a recall: see ledgerPass.ts) rather
   * than a delivery: the pass's name. Passes share the delivery queue, its worker and its poison handling.
   */
  readonly pass?: string;
}

/** A pass's name: lower-case letters, digits and dashes (`revision-2`, `recall`). */
export const passNamePattern = /^[a-z][a-z0-9-]{0,63}$/;

/** A queue could not be reached or refused us: an outage or a misconfiguration. */
export class WorkQueueUnavailableError extends Error {
  constructor(queue: string, override readonly cause: unknown) {
    super(`Queue ${queue} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'WorkQueueUnavailableError';
  }
}

/** What the trigger hands over (the host parses JSON messages; a string is parsed here), or undefined when it is not ours. */
export function parsePlanMessage(value: unknown): PlanMessage | undefined {
  const object = asObject(value);
  const id = object?.['id'];
  return typeof id === 'string' && notificationIdPattern.test(id) ? { id } : undefined;
}

export function parseDeliverMessage(value: unknown): DeliverMessage | undefined {
  const object = asObject(value);
  const plan = parsePlanMessage(object);
  const tenantId = object?.['tenantId'];
  const pass = object?.['pass'];
  if (plan === undefined || typeof tenantId !== 'string') return undefined;
  if (pass === undefined) return { id: plan.id, tenantId };
  return typeof pass === 'string' && passNamePattern.test(pass) ? { id: plan.id, tenantId, pass } : undefined;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/** Seconds from `now` until `sendAt` (0 when absent or past), rounded up so a delayed message never shows before its time. */
export function delayUntil(sendAt: Date | undefined, now = Date.now()): number {
  if (sendAt === undefined) return 0;
  // The longest a queue keeps a message invisible; a later time is waited for again when the message shows.
  return Math.min(maxDelaySeconds, Math.max(0, Math.ceil((sendAt.getTime() - now) / 1_000)));
}

const maxDelaySeconds = 7 * 24 * 3_600;

export function encodeMessage(message: PlanMessage | DeliverMessage): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

export interface WorkQueueOptions {
  readonly planQueue?: string;
  readonly deliverQueue?: string;
}

export class WorkQueues {
  private readonly plan: LazyQueue;
  private readonly deliver: LazyQueue;

  constructor(connection: StorageConnection, options: WorkQueueOptions = {}) {
    this.plan = new LazyQueue(options.planQueue ?? planQueueName, () => queueClientFor(connection, options.planQueue ?? planQueueName));
    this.deliver = new LazyQueue(options.deliverQueue ?? deliverQueueName, () => queueClientFor(connection, options.deliverQueue ?? deliverQueueName));
  }

  enqueuePlan(message: PlanMessage, delaySeconds = 0): Promise<void> {
    return this.plan.send(encodeMessage({ id: message.id }), delaySeconds);
  }

  enqueueDeliver(message: DeliverMessage, delaySeconds = 0): Promise<void> {
    const pass = message.pass === undefined ? {} : { pass: message.pass };
    return this.deliver.send(encodeMessage({ id: message.id, tenantId: message.tenantId, ...pass }), delaySeconds);
  }
}

/**
 * A queue client built on first use (a connection string without a queue endpoint fails only when
 * queued notifications are used), and the queue created then (npm start and a deployment create
 * them too; this covers a fresh account).
 */
class LazyQueue {
  private client: QueueClient | undefined;
  private ready: Promise<unknown> | undefined;

  constructor(
    private readonly name: string,
    private readonly create: () => QueueClient,
  ) {}

  async send(text: string, delaySeconds: number): Promise<void> {
    try {
      const client = (this.client ??= this.create());
      this.ready ??= client.createIfNotExists().catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
      await this.ready;
      // A message lives until it is done: the default time-to-live (7 days) could expire a long wait.
      await client.sendMessage(text, { visibilityTimeout: Math.max(0, Math.round(delaySeconds)), messageTimeToLive: -1 });
    } catch (error) {
      throw new WorkQueueUnavailableError(this.name, error);
    }
  }
}
