import { randomUUID } from 'node:crypto';
import type { TypedData } from './core';

/**
 * What the Functions host hands a Node worker for one queue message: the
 * decoded text as the trigger input (the package parses it as JSON when it
 * is JSON), and the trigger metadata, converted the way the host's gRPC layer
 * converts .NET values (numbers and dates as JSON, strings as strings).
 */

/** A received message as @azure/storage-queue returns it (the fields the trigger uses). */
export interface ReceivedQueueMessage {
  readonly messageId: string;
  readonly popReceipt: string;
  readonly messageText: string;
  readonly dequeueCount: number;
  readonly insertedOn: Date;
  readonly expiresOn: Date;
  readonly nextVisibleOn: Date;
}

export class MessageDecodingError extends Error {
  constructor(readonly messageId: string) {
    super(`message ${messageId} is not valid base64; check host.json extensions.queues.messageEncoding`);
    this.name = 'MessageDecodingError';
  }
}

/**
 * The message text the function sees: base64-decoded (strictly, as .NET's
 * Convert.FromBase64String does) and read as UTF-8, or as it is with
 * `messageEncoding: none`. Throws MessageDecodingError for text that is not base64.
 */
export function decodeMessageText(message: Pick<ReceivedQueueMessage, 'messageId' | 'messageText'>, encoding: 'base64' | 'none'): string {
  if (encoding === 'none') return message.messageText;
  const compact = message.messageText.replace(/[ \t\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new MessageDecodingError(message.messageId);
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The trigger input: a string, which the package turns into an object when it parses as JSON. */
export function queueTriggerData(text: string): TypedData {
  return { string: text };
}

/**
 * Trigger metadata as the host builds it (QueueTriggerBinding's binding data):
 * QueueTrigger, DequeueCount, ExpirationTime, Id, InsertionTime,
 * NextVisibleTime, PopReceipt, then, for a message that is a JSON object, its
 * top-level properties, which win over the built-in names on a clash
 * (case-insensitively, as in the host), and the host's `sys` entry.
 * The package camel-cases the keys: `context.triggerMetadata.dequeueCount`.
 */
export function queueTriggerMetadata(message: ReceivedQueueMessage, text: string, functionName: string, now = new Date()): Record<string, TypedData> {
  const metadata = new Map<string, [string, TypedData]>();
  const set = (key: string, value: TypedData): void => {
    const existing = metadata.get(key.toLowerCase());
    // A case-insensitive dictionary keeps the first spelling of a key.
    metadata.set(key.toLowerCase(), [existing?.[0] ?? key, value]);
  };
  set('QueueTrigger', { string: text });
  set('DequeueCount', { json: JSON.stringify(message.dequeueCount) });
  set('ExpirationTime', { json: JSON.stringify(dotNetDateTimeOffset(message.expiresOn)) });
  set('Id', { string: message.messageId });
  set('InsertionTime', { json: JSON.stringify(dotNetDateTimeOffset(message.insertedOn)) });
  set('NextVisibleTime', { json: JSON.stringify(dotNetDateTimeOffset(message.nextVisibleOn)) });
  set('PopReceipt', { string: message.popReceipt });
  for (const [key, value] of Object.entries(jsonObjectProperties(text))) {
    set(key, typeof value === 'string' ? { string: value } : { json: JSON.stringify(value) });
  }
  set('sys', { json: JSON.stringify({ MethodName: functionName, UtcNow: now.toISOString(), RandGuid: randomUUID() }) });
  return Object.fromEntries([...metadata.values()]);
}

function jsonObjectProperties(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A UTC date as Newtonsoft.Json writes a DateTimeOffset: `2026-11-28T07:40:05+00:00` (fraction only when not zero). */
export function dotNetDateTimeOffset(date: Date): string {
  const iso = date.toISOString();
  const [seconds, fraction = ''] = iso.slice(0, -1).split('.');
  const trimmed = fraction.replace(/0+$/, '');
  return `${seconds}${trimmed === '' ? '' : `.${trimmed}`}+00:00`;
}
