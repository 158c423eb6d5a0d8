import type { AudiencePreview } from '../shared/notifications/audiencePreview';

/**
 * The app's HTTP API as the console uses it: the queued notifications
 * (`/api/notifications`: send, status, cancel, edit, recall, remind, the
 * recipients' CSV), the audience preview and the stored teams. Every call
 * carries the function key as `x-functions-key` when the page has one.
 */

export type { AudiencePreview };

export type NotificationState = 'scheduled' | 'queued' | 'running' | 'completed' | 'cancelled' | 'failed' | 'recalled';

export const finalStates: readonly NotificationState[] = ['completed', 'cancelled', 'failed', 'recalled'];

export type TeamDelivery = 'channel' | 'allChannels' | 'members';

/** One source of the request's `audience`: the notification goes to the union of its sources. */
export type AudienceSource =
  | { readonly team: string; readonly deliverTo: TeamDelivery }
  | { readonly users: readonly string[]; readonly tenantId?: string }
  | { readonly group: string; readonly tenantId?: string }
  | { readonly stored: NonNullable<NotificationBody['target']> | Record<string, never> };

/** A team the bot is in (`GET /api/teams`). */
export interface StoredTeam {
  readonly tenantId: string;
  readonly teamId: string;
  /** Empty when Teams never said the team's name. */
  readonly teamName: string;
}

/** What `PATCH /api/notifications/{id}` takes: the new message, replacing the old one in every chat. */
export interface MessageEdit {
  readonly text?: string;
  readonly card?: Record<string, unknown>;
}

export interface NotificationBody {
  readonly id?: string;
  readonly text?: string;
  readonly card?: Record<string, unknown>;
  readonly target?: Partial<Record<'conversationIds' | 'userIds' | 'tenantIds' | 'channelIds' | 'conversationTypes', string[]>>;
  /** Teams, people, groups and stored conversations; never with `target`. */
  readonly audience?: readonly AudienceSource[];
  /** Ask for acknowledgements: the message carries a button with this label. */
  readonly acknowledge?: { readonly label: string };
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
  /** Not reached, by reason (teams, people and groups): no such user or group, a guest, no app and not installed for them, blocked the bot. Absent from servers without audiences. */
  readonly notFound?: number;
  readonly guest?: number;
  readonly notInstalled?: number;
  readonly blocked?: number;
  /** People who pressed the acknowledge button; null (or absent) when it did not ask for acknowledgements. */
  readonly acknowledged?: number | null;
  /** Deliveries a read receipt showed as read (see `readCovers`). */
  readonly read?: number;
  /** What `read` can count (personal chats of people with read receipts on). */
  readonly readCovers?: string;
  /** The current revision: 1 as sent, one more for each edit. */
  readonly revision?: number;
  /** One entry per edit (revision 2 on), oldest first: how far replacing the message got. */
  readonly revisions?: readonly RevisionProgress[];
  /** Once recalled: how far deleting the message got. */
  readonly recall?: RecallProgress;
  /** One entry per reminder, oldest first. */
  readonly reminders?: readonly ReminderProgress[];
  /** The message as its latest revision reads (absent in the list, and from servers before it). */
  readonly content?: MessageEdit;
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

/** A pass over the chats a notification reached (an edit or the recall), summed over tenants. */
export interface PassProgress {
  readonly state: 'running' | 'done' | 'superseded' | 'stopped' | 'failed';
  readonly failed: number;
  readonly pending: number;
}

export interface RevisionProgress extends PassProgress {
  readonly revision: number;
  readonly updated: number;
}

export interface RecallProgress extends PassProgress {
  readonly removed: number;
}

export interface ReminderProgress extends PassProgress {
  readonly id: string;
  /** Chats the reminder was sent to. */
  readonly reminded: number;
  /** Chats left out because someone there had acknowledged. */
  readonly acknowledged: number;
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

  edit(id: string, message: MessageEdit): Promise<unknown> {
    return this.call<unknown>('PATCH', `notifications/${encodeURIComponent(id)}`, message);
  }

  recall(id: string): Promise<unknown> {
    return this.call<unknown>('POST', `notifications/${encodeURIComponent(id)}/recall`, {});
  }

  remind(id: string): Promise<unknown> {
    return this.call<unknown>('POST', `notifications/${encodeURIComponent(id)}/remind`, {});
  }

  async teams(): Promise<readonly StoredTeam[]> {
    return (await this.call<{ teams: readonly StoredTeam[] }>('GET', 'teams')).teams;
  }

  /** Every recipient and its outcome, as the CSV file the API writes. */
  async recipientsCsv(id: string): Promise<Blob> {
    const response = await this.fetch('GET', `notifications/${encodeURIComponent(id)}/recipients?format=csv`, 'text/csv');
    if (!response.ok) throw new ApiError(response.status, problemsIn(parseJson(await response.text()), response));
    return response.blob();
  }

  list(after?: string): Promise<NotificationList> {
    const query = after === undefined ? '' : `?after=${encodeURIComponent(after)}`;
    return this.call<NotificationList>('GET', `notifications${query}`);
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.fetch(method, path, 'application/json', body, signal);
    const parsed = parseJson(await response.text());
    if (!response.ok) throw new ApiError(response.status, problemsIn(parsed, response));
    return parsed as T;
  }

  private fetch(method: string, path: string, accept: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.functionKey !== undefined) headers['x-functions-key'] = this.functionKey;
    return fetch(new URL(path, this.apiBase), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  }
}

/** The body as JSON, or undefined when it is empty or not JSON. */
function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
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
