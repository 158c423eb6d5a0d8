import { elementById, formatCount, showProblems } from './elementById';
import type { NotificationApi, NotificationStatus } from './notificationApi';

/**
 * Recent notifications (`GET /api/notifications`, newest first), a page at a
 * time; each one's button opens its status view.
 */
export class HistoryView {
  private readonly table = elementById('history', HTMLTableElement);
  private readonly rows = elementById('history-rows', HTMLTableSectionElement);
  private readonly empty = elementById('history-empty', HTMLElement);
  private readonly problems = elementById('history-problems', HTMLElement);
  private readonly more = elementById('history-more', HTMLButtonElement);
  private nextAfter: string | undefined;

  constructor(
    private readonly api: NotificationApi,
    private readonly open: (id: string) => void,
  ) {
    elementById('history-refresh', HTMLButtonElement).addEventListener('click', () => void this.refresh());
    this.more.addEventListener('click', () => void this.load(this.nextAfter));
  }

  refresh(): Promise<void> {
    return this.load(undefined);
  }

  /** The newest page (after undefined), or the page older than `after`, appended. */
  private async load(after: string | undefined): Promise<void> {
    try {
      const page = await this.api.list(after);
      const rows = page.notifications.map((notification) => this.row(notification));
      if (after === undefined) this.rows.replaceChildren(...rows);
      else this.rows.append(...rows);
      this.nextAfter = page.nextAfter;
      this.more.hidden = page.nextAfter === undefined;
      const none = this.rows.childElementCount === 0;
      this.table.hidden = none;
      this.empty.hidden = !none;
      showProblems(this.problems, []);
    } catch (error) {
      showProblems(this.problems, [`Could not load the history: ${error instanceof Error ? error.message : String(error)}`]);
    }
  }

  private row(notification: NotificationStatus): HTMLTableRowElement {
    const row = document.createElement('tr');
    const name = document.createElement('th');
    name.scope = 'row';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    button.textContent = notification.id;
    button.setAttribute('aria-label', `Open ${notification.id}`);
    button.addEventListener('click', () => this.open(notification.id));
    name.append(button);
    row.append(name);
    const created = notification.createdAt ? new Date(notification.createdAt).toLocaleString() : '';
    const state = notification.state === 'scheduled' && notification.sendAt ? `scheduled for ${new Date(notification.sendAt).toLocaleString()}` : notification.state;
    for (const value of [state, formatCount(notification.sent), formatCount(notification.failed), formatCount(notification.matched), created]) {
      row.insertCell().textContent = value;
    }
    return row;
  }
}
