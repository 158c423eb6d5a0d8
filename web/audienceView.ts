import { elementById, formatCount } from './elementById';
import { ApiError, type AudiencePreview, type NotificationApi, type NotificationBody } from './notificationApi';
import { describeSourceReach, type SourceReach } from './sourceReach';

/**
 * The audience box: after each edit (debounced), asks the server's dry run
 * (`POST /api/notifications/preview`) how many stored conversations the
 * current body reaches, and shows the count by tenant and conversation type,
 * and, for a body with an `audience`, how many each of its sources reaches
 * (the preview's `sources`, in the order of the request's; `matched` is
 * then their union, each person once). A body the
 * server refuses is reported in the form's problems.
 */

export type AudienceState =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'counted'; readonly preview: AudiencePreview }
  | { readonly kind: 'refused'; readonly problems: readonly string[] }
  | { readonly kind: 'unavailable'; readonly problem: string };

/** Conversation types in the order people think of them, singular and plural. */
const typeNames: readonly (readonly [string, string, string])[] = [
  ['personal', '1:1 chat', '1:1 chats'],
  ['groupChat', 'group chat', 'group chats'],
  ['channel', 'channel', 'channels'],
  ['', 'conversation without a type', 'conversations without a type'],
];

function describeTypes(byConversationType: Readonly<Record<string, number>>): string {
  const known = typeNames.map(([type]) => type);
  const others = Object.keys(byConversationType).filter((type) => !known.includes(type));
  return [...typeNames, ...others.map((type) => [type, type, type] as const)]
    .filter(([type]) => (byConversationType[type] ?? 0) > 0)
    .map(([type, one, many]) => {
      const count = byConversationType[type] ?? 0;
      return `${formatCount(count)} ${count === 1 ? one : many}`;
    })
    .join(', ');
}

export class AudienceView {
  private readonly box = elementById('audience', HTMLElement);
  /** A line of its own, always there, so saying "counting" never moves the page. */
  private readonly progress = elementById('audience-progress', HTMLElement);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: AbortController | undefined;
  private lastKey: string | undefined;

  constructor(
    private readonly api: NotificationApi,
    private readonly changed: (state: AudienceState) => void,
    /** A team's name for people, from its id. */
    private readonly teamName: (teamId: string) => string,
  ) {}

  /**
   * Counts again for this body shortly (edits in quick succession ask once);
   * undefined: nothing to count. The same body as last time is not counted
   * again, and the last count stays in place while a new one is made, so the
   * page does not jump under the pointer (leaving a field fires a change).
   */
  update(body: NotificationBody | undefined): void {
    const key = body === undefined ? undefined : JSON.stringify(body);
    if (key === this.lastKey) return;
    this.lastKey = key;
    clearTimeout(this.timer);
    this.inFlight?.abort();
    if (body === undefined) {
      this.showMessage('Write a message to see who it reaches.');
      this.counting(false);
      this.changed({ kind: 'unknown' });
      return;
    }
    this.counting(true);
    this.timer = setTimeout(() => void this.count(body), 300);
  }

  private async count(body: NotificationBody): Promise<void> {
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      const preview = await this.api.preview(body, controller.signal);
      if (controller.signal.aborted) return;
      this.counting(false);
      this.render(preview, body);
      this.changed({ kind: 'counted', preview });
    } catch (error) {
      if (controller.signal.aborted) return;
      this.counting(false);
      if (error instanceof ApiError && error.status === 400) {
        this.showMessage('Fix the problems below to see who it reaches.');
        this.changed({ kind: 'refused', problems: error.problems });
        return;
      }
      const problem = `Could not count the audience: ${error instanceof Error ? error.message : String(error)}`;
      this.showMessage(problem);
      this.changed({ kind: 'unavailable', problem });
    }
  }

  private counting(busy: boolean): void {
    if (busy) this.box.setAttribute('aria-busy', 'true');
    else this.box.removeAttribute('aria-busy');
    this.progress.textContent = busy ? 'Counting…' : '';
  }

  private showMessage(text: string): void {
    const line = document.createElement('p');
    line.textContent = text;
    this.box.replaceChildren(line);
  }

  private render(preview: AudiencePreview & { readonly sources?: readonly SourceReach[] }, body: NotificationBody): void {
    const summary = document.createElement('p');
    summary.className = 'audience-count';
    summary.id = 'audience-count';
    // With an audience, `matched` counts people and conversations together, each once.
    const conversations = body.audience !== undefined ? (preview.matched === 1 ? 'recipient' : 'recipients') : preview.matched === 1 ? 'conversation' : 'conversations';
    const tenants = preview.tenantCount === 1 ? 'tenant' : 'tenants';
    summary.textContent = `${preview.complete ? '' : 'At least '}${formatCount(preview.matched)} ${conversations} in ${formatCount(preview.tenantCount)} ${tenants}`;
    const types = document.createElement('p');
    types.textContent = describeTypes(preview.byConversationType);
    const parts: HTMLElement[] = [summary, types];
    if (!preview.complete) {
      const note = document.createElement('p');
      note.className = 'hint';
      note.textContent = 'Counting stopped before the end of a very large audience; the send reaches everyone who matches.';
      parts.push(note);
    }
    const sources = body.audience ?? [];
    if (sources.length > 0 && preview.sources?.length === sources.length) parts.push(this.sourceList(sources, preview.sources));
    if (preview.tenants.length > 0) parts.push(this.tenantTable(preview));
    this.box.replaceChildren(...parts);
  }

  private sourceList(sources: NonNullable<NotificationBody['audience']>, reach: readonly SourceReach[]): HTMLElement {
    const list = document.createElement('ul');
    list.className = 'audience-sources';
    list.id = 'audience-sources';
    list.setAttribute('aria-label', 'Reach of each choice');
    sources.forEach((source, index) => {
      const item = document.createElement('li');
      item.textContent = describeSourceReach(source, reach[index] as SourceReach, this.teamName);
      list.append(item);
    });
    return list;
  }

  private tenantTable(preview: AudiencePreview): HTMLElement {
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = preview.tenantCount > preview.tenants.length ? `Largest ${preview.tenants.length} tenants` : 'By tenant';
    const table = document.createElement('table');
    const caption = table.createCaption();
    caption.textContent = 'Matched conversations by tenant';
    caption.className = 'visually-hidden';
    const head = table.createTHead().insertRow();
    for (const title of ['Tenant', 'Conversations', '1:1 chats', 'Group chats', 'Channels']) {
      const cell = document.createElement('th');
      cell.scope = 'col';
      cell.textContent = title;
      head.append(cell);
    }
    const rows = table.createTBody();
    for (const tenant of preview.tenants) {
      const row = rows.insertRow();
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = tenant.tenantId === '' ? '(none)' : tenant.tenantId;
      row.append(name);
      for (const value of [tenant.matched, tenant.byConversationType['personal'], tenant.byConversationType['groupChat'], tenant.byConversationType['channel']]) {
        row.insertCell().textContent = formatCount(value ?? 0);
      }
    }
    details.append(summary, table);
    return details;
  }
}
