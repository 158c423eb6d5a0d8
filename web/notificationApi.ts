import type { AudiencePreview } from '../shared/notifications/audiencePreview';

/**
 * The app's HTTP API as the console uses it: the queued notifications
 * (`/api/notifications`) and the audience preview. Every call carries the
 * function key as `x-functions-key` when the page has one.
 */

export type { AudiencePreview };

export type NotificationState = 'scheduled' | 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

export const finalStates: readonly NotificationState[] = ['completed', 'cancelled', 'failed'];

export interface NotificationBody {
  readonly id?: string;
  readonly text?: string;
  readonly card?: Record<string, unknown>;
  readonly target?: Partial<Record<'conversationIds' | 'userIds' | 'tenantIds' | 'channelIds' | 'conversationTypes', string[]>>;
  /** When to send it (ISO 8601 with a UTC offset); only `POST /api/notifications` takes it. */
  readonly sendAt?: string;
}

export interface Accepted {
  readonly id: string;
  readonly state: NotificationState;
  readonly statusUrl: string;
  readonly sendAt?: string;
}

export interface DeliveryFailure {
  readonly tenantId?: string;
  readonly channelId?: string;
  readonly conversationId?: string;
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
  readonly attempts?: number;
  readonly pruned?: boolean;
}

export interface NotificationStatus {
  readonly id: string;
  readonly state: NotificationState;
  /** Absent or null until planning has listed every reference. */
  readonly matched?: number | null;
  readonly sent: number;
  readonly failed: number;
  readonly pruned: number;
  readonly retried: number;
  readonly alreadySent: number;
  /** Skipped because they asked the bot to stop (absent from servers before opt-out). */
  readonly optedOut?: number;
  readonly pending?: number | null;
  readonly createdAt?: string;
  /** When a scheduled notification is (or was) to be sent; null or absent when it was sent at once. */
  readonly sendAt?: string | null;
  readonly startedAt?: string | null;
  readonly completedAt?: string | null;
  /** Why it failed, when it did. */
  readonly error?: string;
  /** Tenants whose delivery work was given up (the poison queue). */
  readonly failedWork?: readonly { readonly tenantId: string; readonly error: string; readonly attempts: number }[];
  /** One page of failures (absent in the list). */
  readonly failures?: readonly DeliveryFailure[];
  /** The next page of failures is `?failuresAfter=<this>`; absent on the last page. */
  readonly nextFailuresAfter?: string;
}

export interface NotificationList {
  /** Newest first. */
  readonly notifications: readonly NotificationStatus[];
  /** The next (older) page is `?after=<this>`; absent on the last page. */
  readonly nextAfter?: string;
}

/** A refusal from the API, with what it said was wrong. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problems: readonly string[],
  ) {
    super(problems.join(' ') || `The server answered ${status}.`);
    this.name = 'ApiError';
  }
}

export class NotificationApi {
  /** `apiBase` is the app's `/api/` URL, ending in a slash. */
  constructor(
    private readonly apiBase: URL,
    private readonly functionKey: string | undefined,
  ) {}

  preview(body: NotificationBody, signal?: AbortSignal): Promise<AudiencePreview> {
    return this.call<AudiencePreview>('POST', 'notifications/preview', body, signal);
  }

  send(body: NotificationBody): Promise<Accepted> {
    return this.call<Accepted>('POST', 'notifications', body);
  }

  status(id: string, failuresAfter?: string): Promise<NotificationStatus> {
    const query = failuresAfter === undefined ? '' : `?failuresAfter=${encodeURIComponent(failuresAfter)}`;
    return this.call<NotificationStatus>('GET', `notifications/${encodeURIComponent(id)}${query}`);
  }

  cancel(id: string): Promise<unknown> {
    return this.call<unknown>('DELETE', `notifications/${encodeURIComponent(id)}`);
  }

  list(after?: string): Promise<NotificationList> {
    const query = after === undefined ? '' : `?after=${encodeURIComponent(after)}`;
    return this.call<NotificationList>('GET', `notifications${query}`);
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.functionKey !== undefined) headers['x-functions-key'] = this.functionKey;
    const response = await fetch(new URL(path, this.apiBase), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
      cache: 'no-store',
      credentials: 'same-origin',
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw new ApiError(response.status, problemsIn(parsed, response));
    return parsed as T;
  }
}

/** What an error body says: `{errors: [...]}`, `{message}` or `{error}`, else the status line. */
function problemsIn(body: unknown, response: Response): string[] {
  if (typeof body === 'object' && body !== null) {
    const { errors, message, error } = body as { errors?: unknown; message?: unknown; error?: unknown };
    if (Array.isArray(errors)) return errors.map(String);
    if (typeof message === 'string') return [message];
    if (typeof error === 'string') return [error];
  }
  if (response.status === 401 || response.status === 403) {
    return ['The function key is missing or wrong: open the console with ?code=<function key>.'];
  }
  return [`The server answered ${response.status} ${response.statusText}.`];
}
