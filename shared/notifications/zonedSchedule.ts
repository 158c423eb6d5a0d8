import { Cron } from 'croner';

/** A schedule expression that cannot be used: not 6 fields, or not NCRONTAB. */
export class ScheduleExpressionError extends Error {
  constructor(readonly expression: string, detail: string) {
    super(`"${expression}" is not a 6-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week}): ${detail}`);
    this.name = 'ScheduleExpressionError';
  }
}

const second = 1_000;
const hour = 3_600 * second;

/**
 * A 6-field NCRONTAB schedule read in the local time of an IANA time zone,
 * with one answer for every instant, daylight-saving changes included:
 *
 * - An occurrence is an instant whose local wall-clock time matches the
 *   expression (09:00 daily stays 09:00 local, summer and winter).
 * - When the clocks go back, a wall-clock time shown twice (02:30 in the
 *   repeated hour) is an occurrence the first time only.
 * - When the clocks go forward, wall-clock times that do not exist that day
 *   (02:30 in Europe/Berlin on the last Sunday of March) are not lost: the
 *   first instant after the gap (03:00 local) is an occurrence if any time in
 *   the gap matches, once however many did (as cron does).
 *
 * croner parses the expression and matches wall-clock times written as if they
 * were UTC (UTC has no daylight saving); the zone's offsets come from Intl.
 * croner's own time-zone mode is not used: around a change its next run
 * depends on where the search starts (from 00:30Z and from 01:00Z on a
 * fall-back day it gives occurrences a day apart), and a timer that asks every
 * minute needs the same answer every time.
 */
export class ZonedSchedule {
  private readonly wallClock: Cron;
  private readonly parts: Intl.DateTimeFormat;

  /** @param timeZone an IANA name the caller has checked (canonicalTimeZone in shared/timeZones.ts). */
  constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 6) throw new ScheduleExpressionError(expression, `it has ${fields.length} fields`);
    try {
      this.wallClock = new Cron(expression.trim(), { paused: true, utcOffset: 0 });
    } catch (error) {
      throw new ScheduleExpressionError(expression, error instanceof Error ? error.message : String(error));
    }
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The latest occurrence in (after, upTo] (epoch ms), or undefined. */
  latestOccurrence(after: number, upTo: number): number | undefined {
    const found = this.occurrences(after, upTo);
    return found.length === 0 ? undefined : found[found.length - 1];
  }

  /**
   * The occurrences in (after, upTo], ascending, as epoch ms. For short ranges
   * (the timer asks about minutes): at most one offset change is assumed inside.
   */
  occurrences(after: number, upTo: number): number[] {
    const before = this.offset(after);
    const atEnd = this.offset(upTo);
    const found = new Set<number>();
    for (const wall of this.matchingWallTimes(after + Math.min(before, atEnd), upTo + Math.max(before, atEnd))) {
      for (const offset of new Set([before, atEnd])) {
        const instant = wall - offset;
        if (instant > after && instant <= upTo && this.wallTime(instant) === wall && !this.isRepeatedWallTime(instant)) found.add(instant);
      }
    }
    if (before < atEnd) {
      // The clocks went forward in the range: the gap's wall-clock times come due when it ends.
      const gapEnd = this.firstInstantWithOffset(after, upTo, atEnd);
      if (this.matchesBetween(gapEnd + before, gapEnd + atEnd)) found.add(gapEnd);
    }
    return [...found].sort((left, right) => left - right);
  }

  /** The local wall-clock time of `instant`, written as UTC epoch ms (whole seconds). */
  wallTime(instant: number): number {
    const value: Record<string, number> = {};
    for (const part of this.parts.formatToParts(new Date(instant))) {
      if (part.type !== 'literal') value[part.type] = Number(part.value);
    }
    return Date.UTC(value['year'] ?? 0, (value['month'] ?? 1) - 1, value['day'] ?? 1, value['hour'] ?? 0, value['minute'] ?? 0, value['second'] ?? 0);
  }

  private offset(instant: number): number {
    return this.wallTime(instant) - Math.floor(instant / second) * second;
  }

  /** Wall-clock times (as UTC ms) in [from, to] that match the expression. */
  private *matchingWallTimes(from: number, to: number): Generator<number> {
    for (let next = this.wallClock.nextRun(new Date(from - second)); next !== null && next.getTime() <= to; next = this.wallClock.nextRun(next)) {
      yield next.getTime();
    }
  }

  /** Whether a wall-clock time in [from, toExclusive) matches. */
  private matchesBetween(from: number, toExclusive: number): boolean {
    const first = this.wallClock.nextRun(new Date(from - second));
    return first !== null && first.getTime() < toExclusive;
  }

  /** Whether an earlier instant showed the same wall-clock time (the second pass through an hour the clocks went back over). */
  private isRepeatedWallTime(instant: number): boolean {
    const offset = this.offset(instant);
    // Changes are months apart, and a repeated hour lasts at most 2 hours: 3 hours back is before this change.
    const earlierOffset = this.offset(instant - 3 * hour);
    if (earlierOffset <= offset) return false;
    return this.offset(instant - (earlierOffset - offset)) === earlierOffset;
  }

  /** The first whole second in (after, upTo] whose offset is `offset` (the range holds one change to it). */
  private firstInstantWithOffset(after: number, upTo: number, offset: number): number {
    let low = Math.floor(after / second); // offset differs here
    let high = Math.floor(upTo / second); // offset is `offset` here
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.offset(middle * second) === offset) high = middle;
      else low = middle;
    }
    return high * second;
  }
}
