import { createHash } from 'node:crypto';
import type { Activity } from 'botbuilder';
import type { AudienceSource } from '../audience/audienceSource';
import type { ConversationFilter } from '../storage/conversationStore';
import { validateAudience } from './audienceField';
import { messageActivity, sizeProblem } from './messageActivity';
import { validateSendAt } from './sendAt';
import { withAcknowledgeButton, type AcknowledgeOptions } from '../engagement/acknowledgementCard';

// The message itself and its size live in messageActivity.ts (the console's bundle counts with
// the same code); re-exported here for the callers that parse requests.
export { activityBytes, adaptiveCardContentType, messageActivity, sizeProblem } from './messageActivity';

/**
 * The body of `POST /api/notify`, validated:
 *
 *   { "id"?: string, "text"?: string, "card"?: object, "target"?: Target, "acknowledge"?: { "label": string } }
 *
 * and, for a queued notification (`POST /api/notifications`), `"sendAt"?: string` (see sendAt.ts).
 *
 * Every problem is reported at once, so a client fixes its request in one go.
 */

export const conversationTypes = ['personal', 'groupChat', 'channel'] as const;
export type ConversationType = (typeof conversationTypes)[number];

/** Letters, digits and `. _ : -`, 1 to 128 characters: fits a uuid, a ULID or "release-2026-11-25". */
export const notificationIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const bodyFields = ['id', 'text', 'card', 'target'] as const;
/** Fields only queued notifications (and their preview) take: they keep a status, which audiences and acknowledgements need. */
const queuedFields = ['audience', 'acknowledge'] as const;

/** The acknowledge button's label: Teams shows a button's title on one line. */
export const maxAcknowledgeLabelLength = 40;
const targetFields = ['conversationIds', 'userIds', 'tenantIds', 'channelIds', 'conversationTypes'] as const;

export interface NotificationRequest {
  /** Present only when the client chose it; then a retry with the same id never sends twice. */
  readonly id?: string;
  readonly activity: Partial<Activity>;
  readonly filter?: ConversationFilter;
  /** Queued notifications and the preview: the sources whose union is reached (never with `filter`). */
  readonly audience?: readonly AudienceSource[];
  /** Overrides settings.deadlineSeconds for this run; never from an HTTP body. */
  readonly deadlineSeconds?: number;
  /** Queued notifications only: not sent before this time (at most 7 days ahead). */
  readonly sendAt?: Date;
  /** Ask for acknowledgements: the message carries a button with this label (see engagement/acknowledgementCard.ts). */
  readonly acknowledge?: AcknowledgeOptions;
}

export interface ParseOptions {
  /** Accept `sendAt`, checked against this time (queued notifications); without it `sendAt` is an unknown field. */
  readonly sendAtFrom?: Date;
  /** Accept `audience` and `acknowledge` (queued notifications, the preview); without it both are refused with a pointer to them. */
  readonly queued?: boolean;
}

/**
 * A hash of what a request sends and to whom. An id is bound to the first
 * request that used it: a retry must carry the same message and target.
 * Object keys are sorted, so the same JSON with its keys in another order is
 * the same request.
 */
export function requestFingerprint(request: Pick<NotificationRequest, 'activity' | 'filter' | 'sendAt' | 'audience' | 'acknowledge'>): string {
  const sortedKeys = (_key: string, value: unknown): unknown =>
    isPlainObject(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value;
  // sendAt only when given, so every fingerprint stored before it existed stays the same.
  const when = request.sendAt === undefined ? {} : { sendAt: request.sendAt.toISOString() };
  const audience = request.audience === undefined ? {} : { audience: request.audience };
  const acknowledge = request.acknowledge === undefined ? {} : { acknowledge: request.acknowledge };
  const canonical = JSON.stringify({ activity: request.activity, filter: request.filter ?? null, ...when, ...audience, ...acknowledge }, sortedKeys);
  return createHash('sha256').update(canonical).digest('base64url');
}

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

export interface MessageLimits {
  /** Largest serialized activity, counted as UTF-16 bytes (settings.maxMessageBytes). */
  readonly maxMessageBytes: number;
}

export function parseNotificationRequest(bodyText: string, limits: MessageLimits, options: ParseOptions = {}): Validated<NotificationRequest> {
  const parsed = parseJsonObject(bodyText);
  if (!parsed.ok) return parsed;
  const body = parsed.value;

  const fields: string[] = [...bodyFields, ...(options.sendAtFrom === undefined ? [] : ['sendAt']), ...(options.queued === true ? queuedFields : [])];
  const refused = options.queued === true ? [] : queuedFields.filter((field) => body[field] !== undefined);
  const errors = [...refused.map((field) => queuedOnly[field]), ...unknownFieldErrors(body, [...fields, ...refused], '')];

  let audience: readonly AudienceSource[] | undefined;
  if (options.queued === true && body['audience'] !== undefined) {
    if (body['target'] !== undefined) errors.push('"audience" and "target" cannot be given together: put the target in the audience as {"stored": <target>}.');
    const sources = validateAudience(body['audience'], validateTarget);
    if (sources.ok) audience = sources.value;
    else errors.push(...sources.errors);
  }

  let sendAt: Date | undefined;
  if (options.sendAtFrom !== undefined && body['sendAt'] !== undefined) {
    const check = validateSendAt(body['sendAt'], options.sendAtFrom);
    if (check.ok) sendAt = check.sendAt;
    else errors.push(check.error);
  }

  let id: string | undefined;
  if (body['id'] !== undefined) {
    if (typeof body['id'] !== 'string') errors.push('"id" must be a string.');
    else if (!notificationIdPattern.test(body['id'])) {
      errors.push('"id" must be 1 to 128 characters, each a letter, a digit or one of . _ : -');
    } else id = body['id'];
  }

  const message = validateMessage(body['text'], body['card']);
  errors.push(...(message.ok ? [] : message.errors));

  let acknowledge: AcknowledgeOptions | undefined;
  if (options.queued === true && body['acknowledge'] !== undefined) {
    const check = validateAcknowledge(body['acknowledge']);
    if (check.ok) acknowledge = check.value;
    else errors.push(...check.errors);
  }

  let filter: ConversationFilter | undefined;
  if (body['target'] !== undefined) {
    const target = validateTarget(body['target'], 'target');
    if (target.ok) filter = target.value;
    else errors.push(...target.errors);
  }

  // With a button, the size counted is the message as sent: the button and the longest id it may name.
  const sent = message.ok && acknowledge !== undefined ? withAcknowledgeButton(message.value, 'x'.repeat(128), acknowledge) : message.ok ? message.value : undefined;
  const tooLarge = sent === undefined ? undefined : sizeProblem(sent, limits.maxMessageBytes);
  if (tooLarge !== undefined) {
    const given = ['text', 'card'].filter((field) => body[field] !== undefined).map((field) => `"${field}"`);
    errors.push(`${given.join(' and ')} ${given.length > 1 ? 'are' : 'is'} too large. ${tooLarge}`);
  }

  if (errors.length > 0 || !message.ok) return { ok: false, errors };
  return {
    ok: true,
    value: {
      activity: message.value,
      ...(id === undefined ? {} : { id }),
      ...(filter === undefined ? {} : { filter }),
      ...(audience === undefined ? {} : { audience }),
      ...(sendAt === undefined ? {} : { sendAt }),
      ...(acknowledge === undefined ? {} : { acknowledge }),
    },
  };
}

/** `{ "label": "Got it" }`: a label that is not blank and at most maxAcknowledgeLabelLength characters. */
function validateAcknowledge(value: unknown): Validated<AcknowledgeOptions> {
  if (!isPlainObject(value)) return invalid('"acknowledge" must be a JSON object such as {"label":"Got it"}.');
  const errors = unknownFieldErrors(value, ['label'], 'acknowledge.');
  const label = value['label'];
  if (typeof label !== 'string') errors.push('"acknowledge.label" must be a string, the text of the button, such as "Got it".');
  else if (label.trim() === '') errors.push('"acknowledge.label" must not be blank.');
  else if ([...label].length > maxAcknowledgeLabelLength) errors.push(`"acknowledge.label" must be at most ${maxAcknowledgeLabelLength} characters.`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { label: label as string } };
}

/** The body as a JSON object, or the error a client is told when it is empty, not JSON, or not an object. */
function parseJsonObject(bodyText: string): Validated<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return invalid(bodyText.trim() === '' ? 'The request body is empty; send a JSON object such as {"text":"Hello"}.' : 'The request body is not valid JSON.');
  }
  if (!isPlainObject(body)) return invalid('The request body must be a JSON object such as {"text":"Hello"}.');
  return { ok: true, value: body };
}

const editFields = ['text', 'card'] as const;

/**
 * The body of an edit (`PATCH /api/notifications/{id}`): `text` and/or `card`, checked as on create.
 * The result is the whole new message: what the body leaves out is not kept from the old one.
 */
export function parseMessageEdit(bodyText: string, limits: MessageLimits): Validated<Partial<Activity>> {
  const parsed = parseJsonObject(bodyText);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  const errors = unknownFieldErrors(body, editFields, '');
  const message = validateMessage(body['text'], body['card']);
  errors.push(...(message.ok ? [] : message.errors));
  const tooLarge = message.ok ? sizeProblem(message.value, limits.maxMessageBytes) : undefined;
  if (tooLarge !== undefined) {
    const given = editFields.filter((field) => body[field] !== undefined).map((field) => `"${field}"`);
    errors.push(`${given.join(' and ')} ${given.length > 1 ? 'are' : 'is'} too large. ${tooLarge}`);
  }
  if (errors.length > 0 || !message.ok) return { ok: false, errors };
  return { ok: true, value: message.value };
}

/** A message activity from the body's `text` and/or Adaptive Card `card`. */
function validateMessage(text: unknown, card: unknown): Validated<Partial<Activity>> {
  const errors: string[] = [];
  if (text !== undefined) {
    if (typeof text !== 'string') errors.push('"text" must be a string.');
    else if (text.trim() === '') errors.push('"text" must not be blank.');
  }
  if (card !== undefined) {
    if (!isPlainObject(card)) errors.push('"card" must be an Adaptive Card JSON object.');
    else if (card['type'] !== 'AdaptiveCard') errors.push('"card" must be an Adaptive Card: its "type" must be "AdaptiveCard".');
  }
  if (text === undefined && card === undefined) errors.push('The message is empty: send "text", "card" or both.');
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: messageActivity(text as string | undefined, card as Record<string, unknown> | undefined) };
}

/**
 * A `target` object as a ConversationFilter. Each field is a non-empty array
 * of non-empty strings; at least one field must be given, since a target that
 * narrows nothing is more likely a mistake than a wish to reach everyone.
 */
export function validateTarget(value: unknown, name: string): Validated<ConversationFilter> {
  if (!isPlainObject(value)) {
    return invalid(`"${name}" must be a JSON object with any of ${targetFields.join(', ')}.`);
  }
  const errors = unknownFieldErrors(value, targetFields, `${name}.`);
  const filter: Record<string, readonly string[]> = {};
  for (const field of targetFields) {
    const values = value[field];
    if (values === undefined) continue;
    const path = `${name}.${field}`;
    if (!Array.isArray(values) || values.length === 0) {
      errors.push(`"${path}" must be a non-empty array of strings.`);
      continue;
    }
    const bad = values.filter((item) => typeof item !== 'string' || item.trim() === '');
    if (bad.length > 0) {
      errors.push(`"${path}" must contain only non-empty strings.`);
      continue;
    }
    const strings = values as string[];
    if (field === 'conversationTypes') {
      const unknown = strings.filter((type) => !(conversationTypes as readonly string[]).includes(type));
      if (unknown.length > 0) {
        errors.push(`"${path}" accepts ${conversationTypes.join(', ')}; got ${unknown.map((type) => JSON.stringify(type)).join(', ')}.`);
        continue;
      }
    }
    filter[field] = strings;
  }
  if (errors.length === 0 && Object.keys(filter).length === 0) {
    errors.push(`"${name}" names no recipients: give at least one of ${targetFields.join(', ')}, or leave it out to notify everyone.`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: filter };
}

const queuedOnly: Readonly<Record<(typeof queuedFields)[number], string>> = {
  audience:
    '"audience" (teams, people, groups) is accepted by queued notifications, POST /api/notifications, and its preview; POST /api/notify sends to stored conversations chosen with "target".',
  acknowledge:
    '"acknowledge" is accepted by queued notifications, POST /api/notifications, whose status counts the presses and which can remind; POST /api/notify keeps no status to record them in.',
};

function unknownFieldErrors(object: Record<string, unknown>, fields: readonly string[], prefix: string): string[] {
  return Object.keys(object)
    .filter((field) => !fields.includes(field))
    .map((field) => `Unknown field "${prefix}${field}"; the fields are ${fields.join(', ')}.`);
}

function invalid(error: string): { readonly ok: false; readonly errors: readonly string[] } {
  return { ok: false, errors: [error] };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
