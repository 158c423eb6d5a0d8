/**
 * A yearly NOTIFY_SCHEDULE (read in UTC: set NOTIFY_SCHEDULE_TIME_ZONE=UTC) whose occurrence was
 * `minutesAgo` minutes before now, inside the timer's catch-up window: a timer run now sends it,
 * and the next occurrence is a year away, so a minute passing during the test changes nothing.
 */
export function scheduleDueMinutesAgo(minutesAgo: number, now = Date.now()): string {
  const at = new Date(now - minutesAgo * 60_000);
  return `0 ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}
