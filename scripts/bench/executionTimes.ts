import type { DeliverOutcome } from '../../shared/queued/deliverer';
import type { PassOutcome } from '../../shared/queued/ledgerPass';
import type { PlanOutcome } from '../../shared/queued/planner';
import { QueuedNotifications } from '../../shared/queued/queuedNotifications';
import type { DeliverMessage, PlanMessage } from '../../shared/queued/workQueues';

/**
 * How long the queue-triggered functions ran: each plan and deliver work item
 * is one function execution, timed from its start to its end, as the host
 * would time the invocation.
 */

export interface Execution {
  readonly name: 'plan' | 'deliver';
  readonly startMs: number;
  readonly endMs: number;
}

/** QueuedNotifications whose plan and deliver record when each work item ran. */
export class TimedQueuedNotifications extends QueuedNotifications {
  readonly executions: Execution[] = [];

  override plan(message: PlanMessage): Promise<PlanOutcome> {
    return this.timed('plan', () => super.plan(message));
  }

  override deliver(message: DeliverMessage): Promise<DeliverOutcome | PassOutcome> {
    return this.timed('deliver', () => super.deliver(message));
  }

  private async timed<T>(name: Execution['name'], work: () => Promise<T>): Promise<T> {
    const startMs = performance.now();
    try {
      return await work();
    } finally {
      this.executions.push({ name, startMs, endMs: performance.now() });
    }
  }
}

export interface ExecutionSummary {
  readonly executions: number;
  /** Sum of every execution's duration (overlapping ones counted each). */
  readonly summedSeconds: number;
  /** Time at least one execution ran (all on one instance, as here). */
  readonly busySeconds: number;
  /**
   * What Flex Consumption bills: each queue-triggered function scales on instances of its own, and an
   * instance is billed while it runs at least one execution, each busy period at least 1 s and rounded
   * up to 100 ms; summed over the functions (one instance each).
   */
  readonly billedSeconds: number;
}

/**
 * Flex Consumption bills an on-demand instance for the time it is actively
 * executing at least one function (concurrent executions on it once), with a
 * minimum of 1,000 ms per billable period, rounded up to 100 ms past that.
 * Functions other than HTTP ones scale individually, so plan and deliver
 * work items run on instances of their own.
 */
export function summarizeExecutions(executions: readonly Execution[]): ExecutionSummary {
  const names = [...new Set(executions.map((execution) => execution.name))];
  const billedMs = names.reduce((sum, name) => sum + billedMsOf(busyPeriods(executions.filter((execution) => execution.name === name))), 0);
  return {
    executions: executions.length,
    summedSeconds: executions.reduce((sum, { startMs, endMs }) => sum + (endMs - startMs), 0) / 1_000,
    busySeconds: busyPeriods(executions).reduce((sum, { start, end }) => sum + (end - start), 0) / 1_000,
    billedSeconds: billedMs / 1_000,
  };
}

function busyPeriods(executions: readonly Execution[]): Array<{ start: number; end: number }> {
  const sorted = [...executions].sort((a, b) => a.startMs - b.startMs);
  const periods: Array<{ start: number; end: number }> = [];
  for (const { startMs, endMs } of sorted) {
    const last = periods[periods.length - 1];
    if (last !== undefined && startMs <= last.end) last.end = Math.max(last.end, endMs);
    else periods.push({ start: startMs, end: endMs });
  }
  return periods;
}

function billedMsOf(periods: ReadonlyArray<{ start: number; end: number }>): number {
  return periods.reduce((sum, { start, end }) => sum + Math.max(1_000, Math.ceil((end - start) / 100) * 100), 0);
}
