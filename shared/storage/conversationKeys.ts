import { createHash } from 'node:crypto';
import type { ConversationKey } from './conversationStore';

/**
 * Table keys for a conversation: PartitionKey is the channel id, RowKey the
 * conversation id, both escaped so that any id is a legal key.
 *
 * Table keys may not contain `/ \ # ?` or control characters, and Teams ids
 * contain `:` `@` `;` `=`. Characters outside a small safe set become `!` and
 * two hex digits per UTF-8 byte, so `a/b` is stored as `a!2Fb` and Teams ids
 * stay readable in Storage Explorer. A lone surrogate (JSON allows `"\ud800"`,
 * UTF-8 has no bytes for it) becomes `!u` and its four hex digits, so it
 * neither collides with another id nor gets lost.
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
    } else if (isLoneSurrogate(char)) {
      escaped += `!u${hex(char.charCodeAt(0), 4)}`;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) escaped += `!${hex(byte, 2)}`;
    }
  }
  return escaped;
}

export function unescapeKey(key: string): string {
  let text = '';
  let bytes: number[] = [];
  const decodeBytes = (): void => {
    text += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '!' && key[i + 1] === 'u') {
      decodeBytes();
      text += String.fromCharCode(parseInt(key.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (key[i] === '!') {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(key.charCodeAt(i));
    }
  }
  decodeBytes();
  return text;
}

/** `for...of` yields a lone surrogate as a one-unit string; a paired one comes as two units. */
function isLoneSurrogate(char: string): boolean {
  const unit = char.charCodeAt(0);
  return char.length === 1 && unit >= 0xd800 && unit <= 0xdfff;
}

function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/**
 * An escaped id longer than the key limit is replaced by its SHA-256; the
 * full id is stored beside it, so nothing is lost and lookups still work.
 */
export function toKey(value: string): string {
  const escaped = escapeKey(value);
  if (escaped.length <= maxKeyLength) return escaped;
  // UTF-8 turns every lone surrogate into U+FFFD, so such an id is hashed by its escaped form, behind a 0xFF
  // byte that no UTF-8 text contains; well-formed ids keep the hashes they were stored under.
  const hashed = value.isWellFormed() ? Buffer.from(value, 'utf8') : Buffer.concat([Buffer.from([0xff]), Buffer.from(escaped, 'utf8')]);
  return hashedPrefix + createHash('sha256').update(hashed).digest('hex');
}

export function isHashedKey(key: string): boolean {
  return key.startsWith(hashedPrefix);
}

export function keyOf({ channelId, conversationId }: ConversationKey): TableKeys {
  return { partitionKey: toKey(channelId), rowKey: toKey(conversationId) };
}
