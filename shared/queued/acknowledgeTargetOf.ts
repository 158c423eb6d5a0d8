import { adaptiveCardType } from '../engagement/acknowledgementCard';
import type { AcknowledgeTarget } from '../engagement/acknowledgeTarget';
import type { NotificationRecord } from './notificationTable';

/** Whether a press for this queued notification counts, from its status row (undefined: there is none). */
export function acknowledgeTargetOf(notification: NotificationRecord | undefined): AcknowledgeTarget {
  if (notification === undefined) return { kind: 'unknown' };
  if (notification.request.acknowledge === undefined) return { kind: 'notAsked' };
  if (notification.state === 'recalled') return { kind: 'recalled' };
  const ownCard = ownCardOf(notification);
  return ownCard === undefined ? { kind: 'open' } : { kind: 'open', ownCard };
}

/** The Adaptive Card a queued notification was sent with, as its request gave it (without the acknowledge button). */
function ownCardOf(notification: NotificationRecord): Record<string, unknown> | undefined {
  const card = notification.request.activity.attachments?.find((attachment) => attachment.contentType === adaptiveCardType)?.content;
  return typeof card === 'object' && card !== null ? (card as Record<string, unknown>) : undefined;
}
