import { odata } from '@azure/data-tables';

/** The first key after every key that starts with `prefix` (keys compare as text; `prefix` must not be empty). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The filter of every partition whose key starts with `prefix`: one range, which the service serves in key order. */
export function partitionsStartingWith(prefix: string): string {
  return odata`PartitionKey ge ${prefix} and PartitionKey lt ${prefixEnd(prefix)}`;
}
