import { maxScheduleDays, sendAtPastToleranceMs } from './sendAt';

/**
 * The console's "Send later": a date and time as `<input type="datetime-local">` gives it
 * (`2026-12-05T09:00`, seconds optional), read in the time zone of the runtime (the browser's),
 * turned into the ISO 8601 with the UTC offset that zone has on that date, as `sendAt` takes it,
 * and checked against the API's bounds (sendAt.ts). No Node imports: the console bundles it.
 */

export type LocalSendAt =
  | { readonly ok: true; readonly sendAt: string; readonly at: Date }
  | { readonly ok: false; readonly problem: string };

const localPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;
const maxScheduleMs = maxScheduleDays * 24 * 3_600_000;

export function localSendAt(value: string, now: Date): LocalSendAt {
  const problem = (text: string): LocalSendAt => ({ ok: false, problem: text });
  if (value.trim() === '') return problem('Choose the date and time to send it.');
  const parts = localPattern.exec(value.trim());
  if (parts === null) return problem(`"${value}" is not a date and time.`);
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map((part) => Number(part ?? '0')) as [number, number, number, number, number, number];
  const at = new Date(year, month - 1, day, hour, minute, second);
  if (at.getFullYear() !== year || at.getMonth() !== month - 1 || at.getDate() !== day || at.getHours() !== hour || at.getMinutes() !== minute) {
    // A time the clocks skip (the spring change) or a day the month does not have.
    return problem(`${value.replace('T', ' ')} does not exist in your time zone; choose another time.`);
  }
  if (at.getTime() < now.getTime() - sendAtPastToleranceMs) {
    return problem(`That time has passed; choose one from now up to ${maxScheduleDays} days ahead.`);
  }
  const latest = new Date(now.getTime() + maxScheduleMs);
  if (at.getTime() > latest.getTime()) {
    return problem(`That is more than ${maxScheduleDays} days ahead; the latest possible now is ${latest.toLocaleString()}.`);
  }
  return { ok: true, sendAt: isoWithOffset(at), at };
}

/** `2026-12-05T09:00:00+01:00`: the local date and time of the runtime's time zone, with that zone's offset then. */
export function isoWithOffset(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${localInputValue(date)}:${pad(date.getSeconds())}${offset}`;
}

/** The value `<input type="datetime-local">` shows for this moment, to the minute. */
export function localInputValue(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
