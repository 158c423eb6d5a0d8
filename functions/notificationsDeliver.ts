import { app, type InvocationContext } from '@azure/functions';
import { deliverQueueName, parseDeliverMessage } from '../shared/queued/workQueues';
import { getServices } from '../shared/services';

/**
 * Delivers one tenant's share of a queued notification, a slice at a time,
 * under the tenant's lease (shared/queued/deliverer.ts). A run that throws is
 * noted in the tenant's work (attempts, error) and retried by the queue; past
 * `maxDequeueCount` the message goes to `notifications-deliver-poison`, where
 * notificationsDeliverPoison marks the work failed, so the notification ends `failed`.
 */
export async function notificationsDeliver(queueItem: unknown, context: InvocationContext): Promise<void> {
  const message = parseDeliverMessage(queueItem);
  if (message === undefined) {
    context.error(`notificationsDeliver: dropped a message that is not a delivery message: ${JSON.stringify(queueItem)}`);
    return;
  }
  const { queued } = getServices();
  try {
    const outcome = await queued.deliver(message);
    context.log(`notificationsDeliver: notification ${message.id}, tenant "${message.tenantId}": ${outcome}`);
  } catch (error) {
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    context.error(`notificationsDeliver: notification ${message.id}, tenant "${message.tenantId}", attempt ${dequeueCount} failed:`, error);
    await queued.noteFailedDelivery(message, dequeueCount, error).catch(() => undefined);
    throw error;
  }
}

export async function notificationsDeliverPoison(queueItem: unknown, context: InvocationContext): Promise<void> {
  const message = parseDeliverMessage(queueItem);
  if (message === undefined) {
    context.error(`notificationsDeliverPoison: dropped a message that is not a delivery message: ${JSON.stringify(queueItem)}`);
    return;
  }
  await getServices().queued.deliveryPoisoned(message);
}

app.storageQueue('notificationsDeliver', {
  queueName: deliverQueueName,
  connection: 'AzureWebJobsStorage',
  handler: notificationsDeliver,
});

app.storageQueue('notificationsDeliverPoison', {
  queueName: `${deliverQueueName}-poison`,
  connection: 'AzureWebJobsStorage',
  handler: notificationsDeliverPoison,
});
