import { QueueClient } from '@azure/storage-queue';
import { setTimeout as delay } from 'node:timers/promises';
import type { QueuedNotifications } from '../../shared/queued/queuedNotifications';
import { deliverQueueName, parseDeliverMessage, parsePlanMessage, planQueueName } from '../../shared/queued/workQueues';

/**
 * Runs the queued notifications' work from a test Azurite's queues in this
 * process, the way the queue triggers do (decode base64 JSON, run, delete on
 * success, leave a failed message to reappear): for tests of shared/queued/
 * without a Functions host. The e2e tests use the local host instead.
 */
export function startQueuePump(connectionString: string, queued: QueuedNotifications, options: { readonly visibilitySeconds?: number } = {}): { stop(): Promise<void> } {
  let stopping = false;
  const visibilityTimeout = options.visibilitySeconds ?? 30;
  const lanes = [
    { client: new QueueClient(connectionString, planQueueName), run: (body: unknown) => runPlan(queued, body) },
    { client: new QueueClient(connectionString, deliverQueueName), run: (body: unknown) => runDeliver(queued, body) },
  ];
  const running = new Set<Promise<void>>();
  const loop = (async () => {
    await Promise.all(lanes.map((lane) => lane.client.createIfNotExists()));
    while (!stopping) {
      let received = 0;
      for (const lane of lanes) {
        if (running.size >= 16) break;
        const batch = await lane.client.receiveMessages({ numberOfMessages: 16 - running.size, visibilityTimeout });
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
          running.add(work);
          void work.finally(() => running.delete(work));
        }
      }
      if (received === 0) await delay(50);
    }
    await Promise.all(running);
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
