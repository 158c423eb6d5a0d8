import { Cron } from 'croner';
import type { RegisteredFunction, TypedData } from './core';
import { describeError, type HostLog } from './log';
import { resolveSettingReferences } from './settingReferences';

type Env = Readonly<Record<string, string | undefined>>;

/** What a timer handler receives (camel-cased by the package into `{ schedule, scheduleStatus, isPastDue }`). */
export function timerTriggerData(isPastDue = false): TypedData {
  return { json: JSON.stringify({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: isPastDue }) };
}

export interface TimerDefinition {
  readonly registered: RegisteredFunction;
  readonly schedule: string;
  readonly runOnStartup: boolean;
}

export interface RunningTimers {
  /** Human-readable schedule per function, for the start-up listing. */
  readonly descriptions: ReadonlyMap<string, string>;
  stop(): void;
}

/**
 * Schedules timer functions with 6-field NCRONTAB expressions
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`), in the time zone
 * of WEBSITE_TIME_ZONE when set, else the machine's. A timer whose schedule
 * cannot be used is reported and left out; the other functions keep running.
 */
export function startTimers(
  timers: readonly TimerDefinition[],
  env: Env,
  log: HostLog,
  run: (registered: RegisteredFunction) => Promise<void>,
): RunningTimers {
  const jobs: Cron[] = [];
  const descriptions = new Map<string, string>();
  for (const timer of timers) {
    const name = timer.registered.metadata.name;
    let job: Cron;
    try {
      const schedule = resolveSettingReferences(timer.schedule, env).trim();
      if (schedule === '') {
        // func refuses to load such a function; here it is only left unscheduled.
        log.warn(`Timer function '${name}' is not scheduled: its schedule "${timer.schedule}" is empty (set a 6-field NCRONTAB expression such as "0 0 9 * * 1-5")`);
        descriptions.set(name, 'timerTrigger (not scheduled: empty schedule)');
        continue;
      }
      if (schedule.split(/\s+/).length !== 6) {
        throw new Error(`schedule "${schedule}" (from "${timer.schedule}") is not a 6-field NCRONTAB expression`);
      }
      job = new Cron(schedule, {
        name: `localhost:${name}`,
        timezone: env.WEBSITE_TIME_ZONE || undefined,
        // Functions never overlaps two runs of one timer.
        protect: true,
      }, () => run(timer.registered));
      descriptions.set(name, `timerTrigger (${schedule}, next ${job.nextRun()?.toISOString() ?? 'never'})`);
    } catch (error) {
      log.error(`Timer function '${name}' is not scheduled: ${error instanceof Error ? error.message : describeError(error)}`);
      descriptions.set(name, 'timerTrigger (not scheduled, see the error above)');
      continue;
    }
    jobs.push(job);
    if (timer.runOnStartup) void run(timer.registered);
  }
  return {
    descriptions,
    stop: () => {
      for (const job of jobs) job.stop();
    },
  };
}
