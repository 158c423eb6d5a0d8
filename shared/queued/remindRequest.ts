import { notificationIdPattern, type Validated } from '../notifications/notificationRequest';

/**
 * The body of `POST /api/notifications/{id}/remind`, validated: nothing, `{}`, or
 * `{ "id": "second-call" }`, the reminder's id (letters, digits, `. _ : -`, 1 to 128), so a retried
 * request sends that reminder once; generated when left out.
 */
export interface RemindRequest {
  readonly reminderId?: string;
}

export function parseRemindRequest(bodyText: string): Validated<RemindRequest> {
  if (bodyText.trim() === '') return { ok: true, value: {} };
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { ok: false, errors: ['The request body is not valid JSON; send nothing, {} or {"id":"reminder-1"}.'] };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, errors: ['The request body must be a JSON object such as {"id":"reminder-1"}.'] };
  const fields = body as Record<string, unknown>;
  const errors = Object.keys(fields)
    .filter((field) => field !== 'id')
    .map((field) => `Unknown field "${field}"; the only field is id (the reminder's id).`);
  const id = fields['id'];
  if (id !== undefined && (typeof id !== 'string' || !notificationIdPattern.test(id))) {
    errors.push('"id" must be 1 to 128 characters, each a letter, a digit or one of . _ : -');
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: typeof id === 'string' ? { reminderId: id } : {} };
}
