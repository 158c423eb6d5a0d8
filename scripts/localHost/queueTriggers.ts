import type { RegisteredFunction, TypedData } from './core';
import type { InvocationResult } from './invoke';
import { describeError, type HostLog } from './log';
import type { QueueServiceClient } from '@azure/storage-queue';
import { queueServiceClient, resolveQueueConnection, type QueueConnection } from './queueConnection';
import { startQueueListener, type QueueListener } from './queueListener';
import { queueTriggerData, queueTriggerMetadata, type ReceivedQueueMessage } from './queueMessages';
import { readQueueOptions, type QueueOptions } from './queueOptions';
import { resolveSettingReferences } from './settingReferences';

type Env = Readonly<Record<string, string | undefined>>;

/** A function registered with `app.storageQueue(...)`: its trigger binding as the package wrote it. */
export interface QueueTriggerDefinition {
  readonly registered: RegisteredFunction;
  /** May hold `%SETTING%` references. */
  readonly queueName: string;
  /** The app setting naming the storage account; absent means AzureWebJobsStorage. */
  readonly connection: string | undefined;
}

export interface RunningQueueTriggers {
  /** Per function, for the start-up listing. */
  readonly descriptions: ReadonlyMap<string, string>;
  /** Stops polling at once; resolves when the messages already fetched are done. */
  stop(): Promise<void>;
}

export type QueueInvoke = (
  registered: RegisteredFunction,
  data: TypedData,
  description: string,
  triggerMetadata: Record<string, TypedData>,
) => Promise<InvocationResult>;

export interface QueueTriggersOptions {
  readonly env: Env;
  readonly log: HostLog;
  /** host.json `extensions.queues`. */
  readonly queuesExtension: unknown;
  /** Create each trigger's queue and poison queue when missing (npm start); otherwise wait for the queue, as Azure does. */
  readonly createQueues: boolean;
  readonly invoke: QueueInvoke;
}

/**
 * Starts one listener per queue-triggered function. Bad host.json queue
 * options stop the host from starting (as in Azure); a function whose queue
 * name or connection cannot be resolved is reported and left out, the others run.
 */
export function startQueueTriggers(definitions: readonly QueueTriggerDefinition[], options: QueueTriggersOptions): RunningQueueTriggers {
  const descriptions = new Map<string, string>();
  const listeners: QueueListener[] = [];
  if (definitions.length === 0) return { descriptions, stop: async () => undefined };
  const queueOptions = readQueueOptions(options.queuesExtension, options.env);
  const { log } = options;
  // One client per storage connection, so functions on one account share its HTTP connections and tokens.
  const services = new Map<string, QueueServiceClient>();
  const serviceFor = (connection: QueueConnection): QueueServiceClient => {
    const key = JSON.stringify(connection);
    let service = services.get(key);
    if (service === undefined) {
      service = queueServiceClient(connection);
      services.set(key, service);
    }
    return service;
  };
  for (const definition of definitions) {
    const name = definition.registered.metadata.name;
    try {
      const queueName = normalizeQueueName(resolveSettingReferences(definition.queueName, options.env));
      const service = serviceFor(resolveQueueConnection(definition.connection, options.env));
      const queue = service.getQueueClient(queueName);
      const poisonQueue = service.getQueueClient(`${queueName}-poison`);
      listeners.push(
        startQueueListener({
          functionName: name,
          queue,
          poisonQueue,
          options: queueOptions,
          createQueues: options.createQueues,
          log,
          invoke: (message, text) => invokeForMessage(options.invoke, definition.registered, queueName, message, text),
        }),
      );
      descriptions.set(name, `queueTrigger (${describeQueue(queue.url)}, ${describeOptions(queueOptions)})`);
    } catch (error) {
      log.error(`Queue function '${name}' is not listening: ${error instanceof Error ? error.message : describeError(error)}`);
      descriptions.set(name, 'queueTrigger (not listening, see the error above)');
    }
  }
  return {
    descriptions,
    stop: async () => {
      await Promise.all(listeners.map((listener) => listener.stop()));
    },
  };
}

function invokeForMessage(invoke: QueueInvoke, registered: RegisteredFunction, queueName: string, message: ReceivedQueueMessage, text: string): Promise<InvocationResult> {
  const description = `queue '${queueName}' message ${message.messageId} (dequeue count ${message.dequeueCount})`;
  return invoke(registered, queueTriggerData(text), description, queueTriggerMetadata(message, text, registered.metadata.name));
}

/** Lower-cased (the extension coerces it) and checked against Azure's queue name rules. */
export function normalizeQueueName(name: string): string {
  const queueName = name.trim().toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(queueName) || queueName.length < 3 || queueName.length > 63) {
    throw new Error(
      `"${name}" is not a valid queue name: 3–63 characters, lower-case letters, digits and single dashes, starting and ending with a letter or digit`,
    );
  }
  return queueName;
}

/** The queue's URL without any SAS token. */
function describeQueue(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function describeOptions(options: QueueOptions): string {
  return (
    `batchSize ${options.batchSize}, newBatchThreshold ${options.newBatchThreshold}, ` +
    `maxDequeueCount ${options.maxDequeueCount}, visibilityTimeout ${options.visibilityTimeoutMs / 1000} s, ` +
    `maxPollingInterval ${options.maxPollingIntervalMs / 1000} s, invisible while running ${options.visibilityWindowSeconds} s`
  );
}
