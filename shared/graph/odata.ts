/** An OData string literal: in single quotes, a quote inside doubled (`o'brien` is `'o''brien'`). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A `$filter` query parameter, encoded for a URL (UPNs of guests hold `#`, addresses may hold `+` and `&`). */
export function filterParameter(expression: string): string {
  return `$filter=${encodeURIComponent(expression)}`;
}
