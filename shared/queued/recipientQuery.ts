import { recipientOutcomes, type RecipientFilter, type RecipientOutcome } from './recipientExport';

/** The query of `GET /api/notifications/{id}/recipients`, validated. */
export interface RecipientQuery {
  readonly format: 'json' | 'csv';
  /** Recipients per JSON page (ignored for CSV, which holds them all). */
  readonly limit: number;
  readonly after?: string;
  readonly filter: RecipientFilter;
}

export type ParsedRecipientQuery = { readonly ok: true; readonly value: RecipientQuery } | { readonly ok: false; readonly errors: readonly string[] };

export const defaultRecipientPageSize = 100;
export const maxRecipientPageSize = 1_000;

/** Each malformed parameter is named in its own message. */
export function parseRecipientQuery(query: URLSearchParams): ParsedRecipientQuery {
  const errors: string[] = [];
  const given = (name: string): string | undefined => {
    const value = query.get(name);
    return value === null || value === '' ? undefined : value;
  };

  const formatText = given('format') ?? 'json';
  if (formatText !== 'json' && formatText !== 'csv') errors.push(`"format" must be "json" or "csv", not "${formatText}".`);

  const limitText = given('limit');
  const limit = limitText === undefined ? defaultRecipientPageSize : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxRecipientPageSize) errors.push(`"limit" must be a whole number from 1 to ${maxRecipientPageSize}.`);

  const outcomeText = given('outcome');
  const outcome = recipientOutcomes.find((known) => known === outcomeText);
  if (outcomeText !== undefined && outcome === undefined) errors.push(`"outcome" must be one of ${recipientOutcomes.join(', ')}, not "${outcomeText}".`);

  const acknowledgedText = given('acknowledged');
  if (acknowledgedText !== undefined && acknowledgedText !== 'true' && acknowledgedText !== 'false') {
    errors.push(`"acknowledged" must be "true" or "false", not "${acknowledgedText}".`);
  }

  if (errors.length > 0) return { ok: false, errors };
  const after = given('after');
  const filter: RecipientFilter = {
    ...(outcome === undefined ? {} : { outcome: outcome as RecipientOutcome }),
    ...(acknowledgedText === undefined ? {} : { acknowledged: acknowledgedText === 'true' }),
  };
  return { ok: true, value: { format: formatText as 'json' | 'csv', limit, ...(after === undefined ? {} : { after }), filter } };
}
