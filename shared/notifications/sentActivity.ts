import type { Activity } from 'botbuilder';
import { withAcknowledgeButton, type AcknowledgeOptions } from '../engagement/acknowledgementCard';

/**
 * The activity a notification sends: its message, plus the acknowledge button naming its id when it
 * asks for acknowledgements. Built at send time, since a generated id is only known once accepted.
 */
export function sentActivity(request: { readonly activity: Partial<Activity>; readonly acknowledge?: AcknowledgeOptions }, notificationId: string): Partial<Activity> {
  return request.acknowledge === undefined ? request.activity : withAcknowledgeButton(request.activity, notificationId, request.acknowledge);
}
