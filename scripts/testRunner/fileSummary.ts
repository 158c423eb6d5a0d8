/** What the runner learns of one test file from summaryReporter.ts. */
export interface FileSummary {
  /** node's counts for the file: tests, suites, pass, fail, cancelled, skipped, todo, duration_ms. */
  readonly counts: Readonly<Record<string, number>>;
  /** "suite › test: first line of the error", for each failed test or hook. */
  readonly failures: readonly string[];
}

/** One line of summaryReporter.ts, after the marker: a count, or a failure. */
export type SummaryLine = { readonly count: string; readonly value: number } | { readonly failure: string };

export const summaryMarker = '[runTests] ';
