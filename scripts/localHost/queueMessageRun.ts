import type { QueueClient } from '@azure/storage-queue';
import type { InvocationResult } from './invoke';
import { describeError, type HostLog } from './log';
import type { QueueOptions } from './queueOptions';
import { decodeMessageText, MessageDecodingError, type ReceivedQueueMessage } from './queueMessages';

/**
 * One received message, handled as the Storage Queues extension's
 * QueueListener.ProcessMessageAsync and QueueProcessor do: poison check, run
 * the function while renewing the message's invisibility, then delete it
 * (success), move it to `<queue>-poison` (last attempt failed), or make it
 * visible again after `visibilityTimeout` (failure).
 */

export interface MessageRunContext {
  readonly functionName: string;
  readonly queue: QueueClient;
  readonly poisonQueue: PoisonQueue;
  readonly options: QueueOptions;
  readonly log: HostLog;
  /** Runs the function for the decoded text; resolves with its outcome, never rejects. */
  invoke(message: ReceivedQueueMessage, text: string): Promise<InvocationResult>;
}

export async function runQueueMessage(context: MessageRunContext, message: ReceivedQueueMessage): Promise<void> {
  const { options, log, queue } = context;
  const ownership = { popReceipt: message.popReceipt };
  try {
    if (message.dequeueCount > options.maxDequeueCount) {
      await moveToPoison(context, message, ownership.popReceipt);
      return;
    }
    let text: string;
    try {
      text = decodeMessageText(message, options.messageEncoding);
    } catch (error) {
      if (!(error instanceof MessageDecodingError)) throw error;
      log.warn(`Message decoding has failed! Check MessageEncoding settings. MessageId=${message.messageId} (queue '${queue.name}')`);
      await moveToPoison(context, message, ownership.popReceipt, false);
      return;
    }

    const renewal = keepInvisible(queue, message.messageId, ownership, options.visibilityWindowSeconds, log);
    let result: InvocationResult;
    try {
      result = await context.invoke(message, text);
    } finally {
      await renewal.stop();
    }

    if (result.succeeded) {
      await ignoringLostMessage(() => queue.deleteMessage(message.messageId, ownership.popReceipt));
    } else if (message.dequeueCount >= options.maxDequeueCount) {
      await moveToPoison(context, message, ownership.popReceipt);
    } else {
      // Failed: someone (maybe us) may try again once visibilityTimeout has passed.
      const seconds = Math.floor(options.visibilityTimeoutMs / 1000);
      await ignoringLostMessage(() => queue.updateMessage(message.messageId, ownership.popReceipt, undefined, seconds));
    }
  } catch (error) {
    // Storage trouble while completing: the message reappears when its invisibility ends and is tried again.
    log.error(`Queue '${queue.name}': completing message ${message.messageId} of '${context.functionName}' failed: ${describeError(error)}`);
  }
}

/** `<queue>-poison`, created the first time a message goes there (as the extension does). */
export class PoisonQueue {
  private created: Promise<unknown> | undefined;

  constructor(readonly client: QueueClient) {}

  async add(messageText: string): Promise<void> {
    this.created ??= this.client.createIfNotExists().catch((error: unknown) => {
      this.created = undefined;
      throw error;
    });
    await this.created;
    await this.client.sendMessage(messageText);
  }
}

async function moveToPoison(context: MessageRunContext, message: ReceivedQueueMessage, popReceipt: string, logLimit = true): Promise<void> {
  const { queue, poisonQueue, options, log } = context;
  if (logLimit) {
    log.warn(`Message has reached MaxDequeueCount of ${options.maxDequeueCount}. Moving message to queue '${poisonQueue.client.name}'. MessageId=${message.messageId}`);
  }
  // The same text as on the wire (still base64-encoded), so a poison-queue trigger decodes it the same way.
  await poisonQueue.add(message.messageText);
  await ignoringLostMessage(() => queue.deleteMessage(message.messageId, popReceipt));
}

interface Renewal {
  stop(): Promise<void>;
}

/**
 * Renews the message's invisibility at half the window while the function
 * runs (sooner after a failed renewal), keeping the newest pop receipt in
 * `ownership`. Stops for good once the message is gone or another receiver
 * holds it.
 */
function keepInvisible(queue: QueueClient, messageId: string, ownership: { popReceipt: string }, windowSeconds: number, log: HostLog): Renewal {
  const normalMs = (windowSeconds * 1000) / 2;
  let intervalMs = normalMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let updating: Promise<void> = Promise.resolve();

  const renew = async (): Promise<void> => {
    try {
      const response = await queue.updateMessage(messageId, ownership.popReceipt, undefined, windowSeconds);
      if (response.popReceipt !== undefined) ownership.popReceipt = response.popReceipt;
      intervalMs = normalMs;
    } catch (error) {
      if (isLostMessage(error)) {
        log.warn(`Queue '${queue.name}': message ${messageId} is no longer ours to renew (${describeError(error).split('\n')[0]})`);
        stopped = true;
        return;
      }
      // Try again sooner, before the invisibility runs out.
      intervalMs = Math.max(intervalMs / 2, Math.min(1_000, normalMs));
      log.warn(`Queue '${queue.name}': renewing the invisibility of message ${messageId} failed, retrying in ${Math.round(intervalMs)} ms: ${describeError(error).split('\n')[0]}`);
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      updating = renew().finally(schedule);
    }, intervalMs);
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await updating;
    },
  };
}

/** Deleting or releasing a message that is gone, or that someone else now holds, needs nothing more. */
async function ignoringLostMessage(operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch (error) {
    if (!isLostMessage(error)) throw error;
  }
}

function isLostMessage(error: unknown): boolean {
  const { statusCode, code } = (error ?? {}) as { statusCode?: number; code?: string };
  return statusCode === 404 || code === 'PopReceiptMismatch' || code === 'QueueBeingDeleted' || code === 'QueueDisabled';
}
