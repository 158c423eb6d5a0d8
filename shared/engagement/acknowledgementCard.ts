import type { Activity, Attachment } from 'botbuilder';

/**
 * The acknowledge button of a notification and the card a press is answered with.
 *
 * The button is an Adaptive Card `Action.Execute` (Universal Actions, card 1.5) whose data names the
 * notification. A notification with its own card gets the button added to that card's actions; a
 * text-only one is sent as one activity holding the text and a small card with just the button, so
 * one send (one activity id) covers both.
 */

export const acknowledgeVerb = 'acknowledge';
export const adaptiveCardType = 'application/vnd.microsoft.card.adaptive';
const universalActionsVersion = '1.5';

export interface AcknowledgeOptions {
  /** The button's text, e.g. "Got it". */
  readonly label: string;
}

/** What the button sends back in `value.action.data`. */
export interface AcknowledgeActionData {
  readonly notificationId: string;
}

export function acknowledgeAction(notificationId: string, label: string): Record<string, unknown> {
  const data: AcknowledgeActionData = { notificationId };
  return { type: 'Action.Execute', title: label, verb: acknowledgeVerb, data };
}

/** The activity to send for a notification that asks for acknowledgements. */
export function withAcknowledgeButton(activity: Partial<Activity>, notificationId: string, options: AcknowledgeOptions): Partial<Activity> {
  const action = acknowledgeAction(notificationId, options.label);
  const attachments = activity.attachments ?? [];
  const cardIndex = attachments.findIndex((attachment) => attachment.contentType === adaptiveCardType && isObject(attachment.content));
  if (cardIndex === -1) {
    const card: Attachment = { contentType: adaptiveCardType, content: { type: 'AdaptiveCard', version: universalActionsVersion, body: [], actions: [action] } };
    return { ...activity, attachments: [...attachments, card] };
  }
  const original = attachments[cardIndex] as Attachment;
  const content = original.content as Record<string, unknown>;
  const actions = Array.isArray(content['actions']) ? (content['actions'] as unknown[]) : [];
  const card = { ...content, version: atLeastUniversal(content['version']), actions: [...actions, action] };
  return { ...activity, attachments: attachments.map((attachment, index) => (index === cardIndex ? { ...original, content: card } : attachment)) };
}

/** The notification id a card action names when it is an acknowledge press, else undefined. */
export function acknowledgedNotificationId(verb: string | undefined, data: unknown): string | undefined {
  if (verb !== acknowledgeVerb || !isObject(data)) return undefined;
  const id = data['notificationId'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The card shown, to the person who pressed only, in place of the one they pressed on: the
 * notification's own card (when it had one) without the button, and the time of their first press.
 */
export function acknowledgedCard(ownCard: Record<string, unknown> | undefined, acknowledgedText: string): Record<string, unknown> {
  const note = { type: 'TextBlock', text: acknowledgedText, wrap: true, weight: 'Bolder', color: 'Good' };
  if (ownCard === undefined) return { type: 'AdaptiveCard', version: universalActionsVersion, body: [note] };
  const body = Array.isArray(ownCard['body']) ? (ownCard['body'] as unknown[]) : [];
  const actions = Array.isArray(ownCard['actions']) ? (ownCard['actions'] as unknown[]).filter((action) => !isAcknowledgeAction(action)) : [];
  const { actions: _dropped, ...rest } = ownCard;
  return { ...rest, version: atLeastUniversal(ownCard['version']), body: [...body, note], ...(actions.length === 0 ? {} : { actions }) };
}

/**
 * The message as a person who acknowledged sees it once it is replaced (an edit): its text, and the
 * card the press was answered with (`acknowledgedCard`: its own card, when it had one, without the
 * button, and the time of their press) in place of the card with the button.
 */
export function withAcknowledgedCard(activity: Partial<Activity>, acknowledgedText: string): Partial<Activity> {
  const attachments = activity.attachments ?? [];
  const cardIndex = attachments.findIndex((attachment) => attachment.contentType === adaptiveCardType && isObject(attachment.content));
  if (cardIndex === -1) return { ...activity, attachments: [...attachments, { contentType: adaptiveCardType, content: acknowledgedCard(undefined, acknowledgedText) }] };
  const original = attachments[cardIndex] as Attachment;
  const card = acknowledgedCard(original.content as Record<string, unknown>, acknowledgedText);
  return { ...activity, attachments: attachments.map((attachment, index) => (index === cardIndex ? { ...original, content: card } : attachment)) };
}

/**
 * "Acknowledged at 09:14", in the person's offset (in UTC, said so, when their channel gave none);
 * the date too when it is not today there.
 */
export function acknowledgedText(at: Date, offsetMinutes: number | undefined, now: Date = new Date()): string {
  const local = (instant: Date): Date => new Date(instant.getTime() + (offsetMinutes ?? 0) * 60_000);
  const pressed = local(at);
  const time = `${two(pressed.getUTCHours())}:${two(pressed.getUTCMinutes())}${offsetMinutes === undefined ? ' UTC' : ''}`;
  const sameDay = pressed.toISOString().slice(0, 10) === local(now).toISOString().slice(0, 10);
  return sameDay ? `Acknowledged at ${time}` : `Acknowledged on ${pressed.toISOString().slice(0, 10)} at ${time}`;
}

/**
 * The offset (minutes east of UTC) of the person's clock, from the activity's `localTimestamp` as
 * the channel sent it (botbuilder keeps that text in `rawLocalTimestamp`); undefined when absent or unreadable.
 */
export function localOffsetMinutes(activity: { readonly rawLocalTimestamp?: string; readonly localTimestamp?: unknown }): number | undefined {
  const raw = activity.rawLocalTimestamp ?? (typeof activity.localTimestamp === 'string' ? activity.localTimestamp : undefined);
  const match = raw === undefined ? null : /([+-])(\d{2}):?(\d{2})$/.exec(raw.trim());
  if (match === null) return /Z$/i.test(raw?.trim() ?? '') ? 0 : undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  if (minutes > 14 * 60) return undefined;
  return match[1] === '-' ? -minutes : minutes;
}

function isAcknowledgeAction(action: unknown): boolean {
  return isObject(action) && action['type'] === 'Action.Execute' && action['verb'] === acknowledgeVerb;
}

function atLeastUniversal(version: unknown): string {
  const [major, minor] = typeof version === 'string' ? version.split('.').map(Number) : [];
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) return universalActionsVersion;
  return major > 1 || (major === 1 && minor >= 5) ? (version as string) : universalActionsVersion;
}

function two(value: number): string {
  return String(value).padStart(2, '0');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
