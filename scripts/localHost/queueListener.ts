import type { QueueClient } from '@azure/storage-queue';
import { describeError, type HostLog } from './log';
import { PoisonQueue, runQueueMessage, type MessageRunContext } from './queueMessageRun';
import { minimumPollingIntervalMs, type QueueOptions } from './queueOptions';
import type { ReceivedQueueMessage } from './queueMessages';

/**
 * Polls one queue for one function, as the Storage Queues extension's
 * QueueListener does: fetch up to `batchSize` messages (invisible for the
 * visibility window), run them concurrently, fetch again once no more than
 * `newBatchThreshold` are still running; when the queue is empty (or missing,
 * or unreachable) wait with a randomised exponential backoff from 100 ms up to
 * `maxPollingInterval`, and poll at once again after finding messages.
 */
export interface QueueListener {
  /** Stops fetching; resolves once the messages already fetched are done. */
  stop(): Promise<void>;
}

export interface QueueListenerOptions {
  readonly functionName: string;
  readonly queue: QueueClient;
  readonly poisonQueue: QueueClient;
  readonly options: QueueOptions;
  /** Create the queue and its poison queue first when missing (npm start). */
  readonly createQueues: boolean;
  readonly log: HostLog;
  readonly invoke: MessageRunContext['invoke'];
}

export function startQueueListener(listener: QueueListenerOptions): QueueListener {
  const { queue, options, log } = listener;
  const context: MessageRunContext = { ...listener, poisonQueue: new PoisonQueue(listener.poisonQueue) };
  const processing = new Set<Promise<void>>();
  const backoff = new PollingBackoff(minimumPollingIntervalMs, options.maxPollingIntervalMs);
  const problems = new PollProblems(`Queue function '${listener.functionName}' (queue '${queue.name}')`, log);
  let stopped = false;
  let wake: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (wake = resolve));

  // Checked until the queue is there, then again only after an error (it may have been deleted), as the extension does.
  let queueExists = false;
  const poll = async (): Promise<ReceivedQueueMessage[]> => {
    try {
      queueExists ||= await queue.exists();
      if (!queueExists) {
        problems.report('missing', 'the queue does not exist yet: waiting for it to be created');
        return [];
      }
      const response = await queue.receiveMessages({ numberOfMessages: options.batchSize, visibilityTimeout: options.visibilityWindowSeconds });
      problems.clear();
      return response.receivedMessageItems;
    } catch (error) {
      queueExists = false;
      const reason = describeError(error).split('\n')[0] ?? 'unknown error';
      problems.report(reason, `polling failed, retrying with backoff: ${reason}`);
      return [];
    }
  };

  let foundSinceLastDelay = false;
  const loop = (async () => {
    if (listener.createQueues) {
      try {
        await queue.createIfNotExists();
        await listener.poisonQueue.createIfNotExists();
      } catch (error) {
        // Polling waits for the queue service (and the queue) with its backoff.
        log.warn(`Queue function '${listener.functionName}': could not create queue '${queue.name}': ${describeError(error).split('\n')[0]}`);
      }
    }
    while (!stopped) {
      const batch = await poll();
      if (stopped) {
        // Fetched while stopping: hand them back at once rather than keep them hidden for the whole window.
        await Promise.allSettled(batch.map((message) => queue.updateMessage(message.messageId, message.popReceipt, undefined, 0)));
        break;
      }
      if (batch.length === 0) {
        await Promise.race([delay(backoff.next(foundSinceLastDelay)), stopping]);
        foundSinceLastDelay = false;
        continue;
      }
      foundSinceLastDelay = true;
      for (const message of batch) {
        const run = runQueueMessage(context, message);
        processing.add(run);
        void run.finally(() => processing.delete(run));
      }
      while (processing.size > options.newBatchThreshold && !stopped) {
        await Promise.race([...processing, stopping]);
      }
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      wake();
      await loop;
      await Promise.allSettled([...processing]);
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** RandomizedExponentialBackoffStrategy: min, then min + min × 2^(n-1) × (0.8–1.2), capped at max. */
export class PollingBackoff {
  private currentMs: number;
  private exponent = 0;

  constructor(private readonly minimumMs: number, private readonly maximumMs: number, private readonly random = Math.random) {
    this.currentMs = minimumMs;
  }

  /** The wait before the next poll; back to the minimum when messages were found since the last wait. */
  next(foundMessages: boolean): number {
    if (foundMessages) {
      this.currentMs = this.minimumMs;
      this.exponent = 1;
      return this.currentMs;
    }
    if (this.currentMs === this.maximumMs) return this.currentMs;
    let interval = this.minimumMs;
    if (this.exponent > 0) interval += (0.8 + 0.4 * this.random()) * 2 ** (this.exponent - 1) * this.minimumMs;
    if (interval < this.maximumMs) {
      this.currentMs = interval;
      this.exponent += 1;
    } else {
      this.currentMs = this.maximumMs;
    }
    return this.currentMs;
  }
}

/** Logs a polling problem once, not at every poll, and when it is over. */
class PollProblems {
  private current: string | undefined;

  constructor(private readonly subject: string, private readonly log: HostLog) {}

  report(kind: string, message: string): void {
    if (this.current === kind) return;
    this.current = kind;
    this.log.warn(`${this.subject}: ${message}`);
  }

  clear(): void {
    if (this.current === undefined) return;
    this.current = undefined;
    this.log.info(`${this.subject}: polling`);
  }
}
