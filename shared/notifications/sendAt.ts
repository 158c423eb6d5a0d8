/**
 * `sendAt` of a queued notification: when to send it, as an ISO 8601 date and time with a UTC
 * offset (`2026-12-05T09:00:00+01:00`, `2026-12-05T08:00:00Z`), from now up to 7 days ahead. Seven
 * days is how long Azure Storage Queues keep a message invisible at most: the notification waits as
 * one delayed queue message, with nothing polling for it.
 */

export const maxScheduleDays = 7;
const maxScheduleMs = maxScheduleDays * 24 * 3_600_000;
/** A time this little in the past is taken as "now" (clocks and the request's own travel). */
export const sendAtPastToleranceMs = 60_000;

const pattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/i;
const example = '"2026-12-05T09:00:00+01:00" or "2026-12-05T08:00:00Z"';

export type SendAtCheck = { readonly ok: true; readonly sendAt: Date } | { readonly ok: false; readonly error: string };

export function validateSendAt(value: unknown, now: Date, name = 'sendAt'): SendAtCheck {
  const invalid = (error: string): SendAtCheck => ({ ok: false, error });
  if (typeof value !== 'string') return invalid(`"${name}" must be a date and time in ISO 8601 with a UTC offset, such as ${example}.`);
  const parts = pattern.exec(value.trim());
  if (parts === null) {
    const offsetless = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim());
    return invalid(
      offsetless
        ? `"${name}" must say which UTC offset it is in (Z or ±hh:mm), such as ${example}; got "${value}".`
        : `"${name}" must be a date and time in ISO 8601 with a UTC offset, such as ${example}; got "${value}".`,
    );
  }
  const [year, month, day, hour, minute, second = '0'] = parts.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const offsetHours = parts[9] === undefined ? 0 : Number(parts[9]);
  const offsetMinutes = parts[10] === undefined ? 0 : Number(parts[10]);
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  if (
    month === undefined || month < 1 || month > 12 || day === undefined || day < 1 || day > daysInMonth ||
    (hour ?? 99) > 23 || (minute ?? 99) > 59 || Number(second) > 59 || offsetHours > 23 || offsetMinutes > 59
  ) {
    return invalid(`"${name}" is not a real date and time: "${value}".`);
  }
  const sendAt = new Date(Date.parse(value.trim()));
  const earliest = now.getTime() - sendAtPastToleranceMs;
  const latest = now.getTime() + maxScheduleMs;
  if (sendAt.getTime() < earliest) {
    return invalid(`"${name}" is in the past (${sendAt.toISOString()}); give a time up to ${maxScheduleDays} days ahead, or leave it out to send now.`);
  }
  if (sendAt.getTime() > latest) {
    return invalid(`"${name}" is more than ${maxScheduleDays} days ahead (${sendAt.toISOString()}); the latest possible now is ${new Date(latest).toISOString()}.`);
  }
  return { ok: true, sendAt };
}
