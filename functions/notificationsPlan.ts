import { app, type InvocationContext } from '@azure/functions';
import { planQueueName, parsePlanMessage } from '../shared/queued/workQueues';
import { getServices } from '../shared/services';

/**
 * Plans a queued notification, a slice at a time (shared/queued/planner.ts):
 * lists the matching references, writes the audience per tenant and starts a
 * delivery work item per tenant. A run that throws is retried by the queue
 * (`host.json` `extensions.queues`); past `maxDequeueCount` the message goes
 * to `notifications-plan-poison`, where notificationsPlanPoison fails the notification.
 */
export async function notificationsPlan(queueItem: unknown, context: InvocationContext): Promise<void> {
  const message = parsePlanMessage(queueItem);
  if (message === undefined) {
    context.error(`notificationsPlan: dropped a message that is not a plan message: ${JSON.stringify(queueItem)}`);
    return;
  }
  const outcome = await getServices().queued.plan(message);
  context.log(`notificationsPlan: notification ${message.id}: ${outcome}`);
}

export async function notificationsPlanPoison(queueItem: unknown, context: InvocationContext): Promise<void> {
  const message = parsePlanMessage(queueItem);
  if (message === undefined) {
    context.error(`notificationsPlanPoison: dropped a message that is not a plan message: ${JSON.stringify(queueItem)}`);
    return;
  }
  await getServices().queued.planningPoisoned(message);
}

app.storageQueue('notificationsPlan', {
  queueName: planQueueName,
  connection: 'AzureWebJobsStorage',
  handler: notificationsPlan,
});

app.storageQueue('notificationsPlanPoison', {
  queueName: `${planQueueName}-poison`,
  connection: 'AzureWebJobsStorage',
  handler: notificationsPlanPoison,
});
