/**
 * Email addresses (or UPNs) as an operator pastes them: one per line, or a
 * column copied from a spreadsheet, or a list separated by commas or
 * semicolons as mail clients write it. Plain code with no Node imports: the
 * console's bundle (web/) reads its box with it.
 */

export interface PastedAddresses {
  /** Well-formed addresses, each once (compared without case), in the order first seen. */
  readonly addresses: readonly string[];
  /** Entries read, blanks left out, duplicates and malformed ones counted. */
  readonly read: number;
  /** Entries that repeat an earlier address. */
  readonly duplicates: number;
  /** Entries that are not name@domain, as written (each once). */
  readonly malformed: readonly string[];
}

/** name@domain without spaces, as `audience[].users` takes it; at most 320 characters (64 + @ + 255). */
const addressPattern = /^[^\s@]+@[^\s@]+$/;
const maxAddressChars = 320;
/** Newlines, commas, semicolons and tabs (a spreadsheet row copied whole). */
const separators = /[\r\n,;\t]+/;

export function readPastedAddresses(pasted: string): PastedAddresses {
  const addresses: string[] = [];
  const seen = new Set<string>();
  const malformed = new Set<string>();
  let read = 0;
  let duplicates = 0;
  for (const raw of pasted.split(separators)) {
    const entry = unquoted(raw.trim());
    if (entry === '') continue;
    read++;
    if (entry.length > maxAddressChars || !addressPattern.test(entry)) {
      malformed.add(entry);
      continue;
    }
    const key = entry.toLowerCase();
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    addresses.push(entry);
  }
  return { addresses, read, duplicates, malformed: [...malformed] };
}

/** A spreadsheet quotes a cell in double quotes when it copies it as CSV. */
function unquoted(entry: string): string {
  return entry.length >= 2 && entry.startsWith('"') && entry.endsWith('"') ? entry.slice(1, -1).trim() : entry;
}
