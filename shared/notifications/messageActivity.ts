import type { Activity, Attachment } from 'botbuilder';

/**
 * The message a notification sends and its size as Teams counts it. Plain code with no Node
 * imports: the console's browser bundle (web/) imports it too, so the page counts a message's
 * size exactly as the API does before it refuses one.
 */

export const adaptiveCardContentType = 'application/vnd.microsoft.card.adaptive';

export function messageActivity(text: string | undefined, card?: Record<string, unknown>): Partial<Activity> {
  const attachments: Attachment[] = card === undefined ? [] : [{ contentType: adaptiveCardContentType, content: card }];
  return {
    type: 'message',
    ...(text === undefined ? {} : { text }),
    ...(attachments.length === 0 ? {} : { attachments }),
  };
}

/** A message as a request gives it: what `POST` and `PATCH /api/notifications` take, and the status shows (`content`). */
export interface MessageContent {
  readonly text?: string;
  readonly card?: Record<string, unknown>;
}

/** The text and Adaptive Card of a message activity: the inverse of `messageActivity`. */
export function messageContent(activity: Partial<Activity>): MessageContent {
  const card = activity.attachments?.find((attachment) => attachment.contentType === adaptiveCardContentType)?.content;
  const isCard = typeof card === 'object' && card !== null && !Array.isArray(card);
  return {
    ...(typeof activity.text === 'string' ? { text: activity.text } : {}),
    ...(isCard ? { card: card as Record<string, unknown> } : {}),
  };
}

/**
 * The size Teams judges: the serialized activity counted as UTF-16, 2 bytes
 * per code unit (so "é" is 2 bytes and "😀" is 4). Teams answers 413 above
 * about 100 KB; the reference fields botbuilder adds before sending (ids,
 * serviceUrl, ...) are a few hundred bytes, well inside the margin below that.
 */
export function activityBytes(activity: Partial<Activity>): number {
  return JSON.stringify(activity).length * 2;
}

/** Why the activity is too large to send, or undefined when it fits. */
export function sizeProblem(activity: Partial<Activity>, maxBytes: number): string | undefined {
  const size = activityBytes(activity);
  if (size <= maxBytes) return undefined;
  return `The message is ${size} bytes as Teams counts them (UTF-16, 2 bytes per character); the limit is ${maxBytes}. Shorten the text or the card.`;
}
