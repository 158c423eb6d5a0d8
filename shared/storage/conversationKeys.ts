import { createHash } from 'node:crypto';
import type { ConversationKey } from './conversationStore';

/**
 * Table keys for a conversation: PartitionKey is the channel id, RowKey the
 * conversation id, both escaped so that any id is a legal key.
 *
 * Table keys may not contain `/ \ # ?` or control characters, and Teams ids
 * contain `:` `@` `;` `=`. Characters outside a small safe set become `!` and
 * two hex digits per UTF-8 byte, so `a/b` is stored as `a!2Fb` and Teams ids
 * stay readable in Storage Explorer.
 */

/** Azure allows 1 KiB per key; Azurite counts 1024 characters. We stay at half to be safe on both. */
export const maxKeyLength = 512;

const hashedPrefix = '~sha256~'; // `~` is always escaped by escapeKey, so no escaped id starts with this.
const safe = /[A-Za-z0-9:@;=._\-]/;

export interface TableKeys {
  readonly partitionKey: string;
  readonly rowKey: string;
}

export function escapeKey(value: string): string {
  let escaped = '';
  for (const char of value) {
    if (safe.test(char)) {
      escaped += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) escaped += `!${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return escaped;
}

export function unescapeKey(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '!') {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(key.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * An escaped id longer than the key limit is replaced by its SHA-256; the
 * full id is stored beside it, so nothing is lost and lookups still work.
 */
export function toKey(value: string): string {
  const escaped = escapeKey(value);
  if (escaped.length <= maxKeyLength) return escaped;
  return hashedPrefix + createHash('sha256').update(value, 'utf8').digest('hex');
}

export function isHashedKey(key: string): boolean {
  return key.startsWith(hashedPrefix);
}

export function keyOf({ channelId, conversationId }: ConversationKey): TableKeys {
  return { partitionKey: toKey(channelId), rowKey: toKey(conversationId) };
}
