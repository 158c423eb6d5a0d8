import { createHash } from 'node:crypto';
import type { ConversationKey } from './conversationStore';
import { prefixEnd } from './keyRanges';

/**
 * Table keys for a conversation: PartitionKey is made of the tenant id, the
 * channel id and a hash bucket (see keyOf), RowKey is the conversation id, all
 * escaped so that any id is a legal key.
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
 * An escaped id longer than `limit` is replaced by its SHA-256; the full id
 * is stored beside it, so nothing is lost and lookups still work.
 */
export function toKey(value: string, limit = maxKeyLength): string {
  const escaped = escapeKey(value);
  if (escaped.length <= limit) return escaped;
  // UTF-8 turns every lone surrogate into U+FFFD, so such an id is hashed by its escaped form, behind a 0xFF
  // byte that no UTF-8 text contains; well-formed ids keep the hashes they were stored under.
  const hashed = value.isWellFormed() ? Buffer.from(value, 'utf8') : Buffer.concat([Buffer.from([0xff]), Buffer.from(escaped, 'utf8')]);
  return hashedPrefix + createHash('sha256').update(hashed).digest('hex');
}

export function isHashedKey(key: string): boolean {
  return key.startsWith(hashedPrefix);
}

/**
 * Partitions: `~2,<tenant>,<channel>,<bucket>`. One tenant's references are one
 * PartitionKey range (listed by prefix, in key order), spread over
 * `bucketCount` partitions by a hash of the conversation id, so neither a big
 * tenant nor the whole channel sits in one partition (Azure serves about
 * 2,000 entities/s per partition). `,` is always escaped by escapeKey and is
 * not in a hashed key, so the parts never run into each other. Every such key
 * starts with `~2,`; a key of the first scheme (the escaped channel id alone)
 * never does: escapeKey escapes `~`, and a hashed key starts `~sha256~`.
 */
export const keySchemePrefix = '~2,';
/** The first key after every `~2,...` key (`-` follows `,`): legacy keys sort below `~2,` or from here on. */
export const keySchemeEnd = prefixEnd(keySchemePrefix);
export const bucketCount = 16;
/** Tenant and channel ids beyond this are hashed, so that a PartitionKey stays within maxKeyLength. */
const maxPartLength = 200;
const separator = ',';

/** The PartitionKey prefix shared by every reference of a tenant, or of a tenant in one channel. */
export function partitionPrefix(tenantId: string, channelId?: string): string {
  const tenantPart = `${keySchemePrefix}${toKey(tenantId, maxPartLength)}${separator}`;
  return channelId === undefined ? tenantPart : `${tenantPart}${toKey(channelId, maxPartLength)}${separator}`;
}

export function bucketOf(rowKey: string): string {
  const first = createHash('sha256').update(rowKey, 'utf8').digest()[0] ?? 0;
  return (first % bucketCount).toString(16);
}

/** The keys of a conversation of a tenant. */
export function keyOf({ channelId, conversationId, tenantId }: ConversationKey & { readonly tenantId: string }): TableKeys {
  const rowKey = toKey(conversationId);
  return { partitionKey: `${partitionPrefix(tenantId, channelId)}${bucketOf(rowKey)}`, rowKey };
}

/** The keys rows had before tenants and buckets (PartitionKey = channel id): still read, and moved to keyOf. */
export function legacyKeyOf({ channelId, conversationId }: ConversationKey): TableKeys {
  return { partitionKey: toKey(channelId), rowKey: toKey(conversationId) };
}

export function isLegacyPartitionKey(partitionKey: string): boolean {
  return !partitionKey.startsWith(keySchemePrefix);
}
