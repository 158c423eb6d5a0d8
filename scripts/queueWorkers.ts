import { QueueClient } from '@azure/storage-queue';
import { setTimeout as delay } from 'node:timers/promises';
import type { QueuedNotifications } from '../shared/queued/queuedNotifications';
import { deliverQueueName, parseDeliverMessage, parsePlanMessage, planQueueName } from '../shared/queued/workQueues';

export interface QueueWorkerOptions {
  /** How long a received message stays invisible (the host renews it; here it is simply long enough). Default 30 s. */
  readonly visibilitySeconds?: number;
  /** Messages run at once per queue: the host's batchSize + newBatchThreshold. Default 24. */
  readonly concurrency?: number;
}

/**
 * Runs the queued notifications' work from Azurite's queues in this process,
 * the way the queue triggers do (base64 JSON decoded, run, deleted on
 * success, a failed message left to reappear): for tests of shared/queued/
 * and the benchmark, without a Functions host. The e2e tests use the local host.
 */
export function startQueueWorkers(connectionString: string, queued: QueuedNotifications, options: QueueWorkerOptions = {}): { stop(): Promise<void> } {
  let stopping = false;
  const visibilityTimeout = options.visibilitySeconds ?? 30;
  const concurrency = options.concurrency ?? 24;
  const lanes = [
    { client: new QueueClient(connectionString, planQueueName), run: (body: unknown) => runPlan(queued, body), running: new Set<Promise<void>>() },
    { client: new QueueClient(connectionString, deliverQueueName), run: (body: unknown) => runDeliver(queued, body), running: new Set<Promise<void>>() },
  ];
  const loop = (async () => {
    await Promise.all(lanes.map((lane) => lane.client.createIfNotExists()));
    while (!stopping) {
      let received = 0;
      for (const lane of lanes) {
        const room = Math.min(32, concurrency - lane.running.size);
        if (room <= 0) continue;
        const batch = await lane.client.receiveMessages({ numberOfMessages: room, visibilityTimeout });
        for (const item of batch.receivedMessageItems) {
          received += 1;
          const work = (async () => {
            const body: unknown = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8'));
            try {
              await lane.run(body);
              await lane.client.deleteMessage(item.messageId, item.popReceipt);
            } catch {
              // Left on the queue: it reappears after the visibility timeout, as with the host.
            }
          })();
          lane.running.add(work);
          void work.finally(() => lane.running.delete(work));
        }
      }
      if (received === 0) await delay(50);
    }
    await Promise.all(lanes.flatMap((lane) => [...lane.running]));
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}

async function runPlan(queued: QueuedNotifications, body: unknown): Promise<void> {
  const message = parsePlanMessage(body);
  if (message !== undefined) await queued.plan(message);
}

async function runDeliver(queued: QueuedNotifications, body: unknown): Promise<void> {
  const message = parseDeliverMessage(body);
  if (message !== undefined) await queued.deliver(message);
}
