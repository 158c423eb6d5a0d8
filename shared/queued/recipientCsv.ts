import type { RecipientRow } from './recipientExport';

/** The CSV's columns, in order (the header line). */
export const recipientCsvColumns = ['conversationId', 'userId', 'tenantId', 'outcome', 'error', 'activityId', 'acknowledgedAt', 'readAt'] as const;

/** Bytes gathered before a piece of the body is handed on: few writes, and never more than this held. */
const pieceBytes = 64 * 1024;

/**
 * The rows as RFC 4180 CSV (CRLF line ends, fields quoted when they hold a comma, a quote or a line
 * break), produced as the rows come: a piece of about 64 KB at a time, never the whole file.
 */
export async function* recipientCsv(rows: AsyncIterable<RecipientRow>): AsyncGenerator<Uint8Array> {
  let piece = `${recipientCsvColumns.join(',')}\r\n`;
  for await (const row of rows) {
    piece += `${recipientCsvColumns.map((column) => csvField(row[column])).join(',')}\r\n`;
    if (piece.length >= pieceBytes) {
      yield Buffer.from(piece, 'utf8');
      piece = '';
    }
  }
  if (piece !== '') yield Buffer.from(piece, 'utf8');
}

/**
 * A field as CSV. A value that a spreadsheet would run as a formula (it starts with = + - @, a tab or
 * a carriage return: an error message from a channel could) gets a leading apostrophe, as OWASP advises.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
