import type { RunningAzurite } from '../azurite';

/**
 * What a benchmark scenario is. A scenario lives in its own file under
 * scenarios/ and is listed once in scenarioList.ts; `npm run bench -- NAME`
 * runs it alone.
 */
export interface Scenario {
  /** Its name on the command line. */
  readonly name: string;
  /** One line for `npm run bench -- --help`: what it measures and the flags it reads. */
  readonly description: string;
  /** Runs, prints its own detail, and returns its lines for the summary table at the end. */
  run(context: BenchContext): Promise<readonly SummaryRow[]>;
}

export interface BenchContext {
  /** Started once for the whole run (tables are named per scenario). */
  readonly azurite: RunningAzurite;
  /** A numeric `--name=value` flag from the command line, or `fallback`. */
  flag(name: string, fallback: number): number;
  /**
   * Figures a scenario leaves for later ones to compare with (e.g. `single` leaves its median
   * deliveries/s for the CPU-hog scenario); absent when that scenario did not run.
   */
  readonly figures: Map<string, number>;
}

/** One line of the summary table. */
export interface SummaryRow {
  readonly scenario: string;
  /** The headline figure, e.g. `48.3 deliveries/s`. */
  readonly result: string;
  /** What the same run measured for the baseline, if the scenario has one. */
  readonly baseline?: string;
  /** The target (from issue 9), if there is one. */
  readonly target?: string;
  /** Whether the target was met; undefined without a target. */
  readonly met?: boolean;
  /** Counts that matter for the target (429s, lost, duplicates, RSS). */
  readonly detail: string;
}
