import { downloadRecipientsCsv } from './csvDownload';
import { EditForm } from './editForm';
import { elementById, formatCount, showProblems } from './elementById';
import { ApiError, finalStates, type DeliveryFailure, type NotificationApi, type NotificationState, type NotificationStatus } from './notificationApi';
import { passesRunning, passSummaries } from './passProgress';
import { pendingOf, progressOf } from './notificationProgress';
import { confirmRecall } from './recallDialog';

/**
 * One notification's status: state, progress bar, counts (with acknowledged
 * and read beside sent), failures a page at a time, and what can be done
 * with it: Cancel while it is scheduled or going out; Edit, Recall and
 * Remind once it is out; Download CSV of its recipients. Polls
 * `GET /api/notifications/{id}` every second until the state is final and
 * the counts have settled (work in flight when a notification is cancelled
 * still reports what it sent a moment later), then every 10 s while the
 * page is visible, since acknowledgements and read receipts keep coming.
 * A scheduled one is read less often until its time comes.
 */

const pollMs = 1_000;
/**
 * Between reads of a scheduled notification: a cancel elsewhere shows within a minute, and its
 * start within seconds, while a console left open on one a week ahead reads about 10,000 times, not 600,000.
 */
const scheduledPollMs = 60_000;
const scheduledSoonPollMs = 10_000;
const soonMs = 10 * 60_000;
const settlingPollMs = 2_000;
/** Reads after the final state, at most, waiting for the counts to stop changing. */
const maxSettlingReads = 15;
/** Once settled: acknowledgements and read receipts arrive for days. */
const engagementPollMs = 10_000;
/** States in which nothing has gone out, or what went out is gone: nothing to edit, recall or remind. */
const beforeOrGone: readonly NotificationState[] = ['scheduled', 'recalled'];

export class StatusView {
  private readonly section = elementById('status', HTMLElement);
  private readonly heading = elementById('status-heading', HTMLElement);
  private readonly idText = elementById('status-id', HTMLElement);
  private readonly state = elementById('status-state', HTMLElement);
  private readonly progress = elementById('progress', HTMLElement);
  private readonly progressFill = elementById('progress-fill', HTMLElement);
  private readonly times = elementById('status-times', HTMLElement);
  private readonly problems = elementById('status-problems', HTMLElement);
  private readonly cancelButton = elementById('cancel', HTMLButtonElement);
  private readonly remindButton = elementById('remind', HTMLButtonElement);
  private readonly recallButton = elementById('recall', HTMLButtonElement);
  private readonly downloadButton = elementById('download-csv', HTMLButtonElement);
  private readonly actionNote = elementById('action-note', HTMLElement);
  private readonly acknowledgedCount = elementById('acknowledged-count', HTMLElement);
  private readonly readCovers = elementById('read-covers', HTMLElement);
  private readonly passes = elementById('pass-progress', HTMLElement);
  private readonly editForm: EditForm;
  private readonly failuresEmpty = elementById('failures-empty', HTMLElement);
  private readonly failuresTable = elementById('failures', HTMLTableElement);
  private readonly failureRows = elementById('failures-rows', HTMLTableSectionElement);
  private readonly failuresFirst = elementById('failures-first', HTMLButtonElement);
  private readonly failuresNext = elementById('failures-next', HTMLButtonElement);

  private current: string | undefined;
  /** What Cancel said of a scheduled one, kept in view while it stays open. */
  private cancelNote: string | undefined;
  /** The failures page shown: undefined is the first. */
  private failuresAfter: string | undefined;
  private nextFailuresAfter: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The counts of the last read once the state was final, and how many such reads there were. */
  private settling: { counts: string; reads: number } | undefined;
  /** Bumped on every read, so an answer overtaken by a newer read (or for a notification no longer shown) is dropped. */
  private generation = 0;

  constructor(
    private readonly api: NotificationApi,
    maxMessageBytes: number,
    private readonly finished: (status: NotificationStatus) => void,
  ) {
    this.editForm = new EditForm(api, maxMessageBytes, () => this.afterAction('Edit accepted: the new message replaces the old one in every chat it reached.'));
    this.cancelButton.addEventListener('click', () => void this.cancel());
    this.recallButton.addEventListener('click', () => void this.recall());
    this.remindButton.addEventListener('click', () => void this.remind());
    this.downloadButton.addEventListener('click', () => void this.download());
    this.failuresNext.addEventListener('click', () => void this.showFailures(this.nextFailuresAfter));
    this.failuresFirst.addEventListener('click', () => void this.showFailures(undefined));
  }

  /** Shows this notification and follows it until its state is final. */
  open(id: string, { focus = true } = {}): void {
    clearTimeout(this.timer);
    this.current = id;
    this.failuresAfter = undefined;
    this.settling = undefined;
    this.cancelNote = undefined;
    this.section.hidden = false;
    this.idText.textContent = id;
    this.state.textContent = 'loading…';
    this.cancelButton.hidden = true;
    this.recallButton.hidden = true;
    this.remindButton.hidden = true;
    this.editForm.offer(id, false);
    this.actionNote.textContent = '';
    showProblems(this.problems, []);
    this.renderFailures([], undefined);
    this.setProgress(undefined);
    if (focus) this.heading.focus();
    void this.poll();
  }

  private async poll(): Promise<void> {
    const generation = ++this.generation;
    const id = this.current;
    if (id === undefined) return;
    let next: number | undefined = pollMs;
    if (this.settling !== undefined && document.visibilityState === 'hidden') {
      this.timer = setTimeout(() => void this.poll(), engagementPollMs);
      return;
    }
    try {
      const status = await this.api.status(id, this.failuresAfter);
      if (generation !== this.generation) return;
      this.render(status);
      next = this.nextPoll(status);
    } catch (error) {
      if (generation !== this.generation) return;
      showProblems(this.problems, [`Could not read the status: ${error instanceof Error ? error.message : String(error)}`]);
      // An unknown id stays unknown; anything else (an outage, a restart) may pass.
      if (error instanceof ApiError && error.status === 404) next = undefined;
    }
    if (next !== undefined) this.timer = setTimeout(() => void this.poll(), next);
  }

  /** When to read again, or undefined once the state is final and two reads in a row had the same counts. */
  private nextPoll(status: NotificationStatus): number | undefined {
    if (status.state === 'scheduled') {
      const untilSendAt = status.sendAt ? new Date(status.sendAt).getTime() - Date.now() : 0;
      return Math.min(untilSendAt > soonMs ? scheduledPollMs : scheduledSoonPollMs, Math.max(pollMs, untilSendAt));
    }
    // An edit or a recall goes on after the send has ended.
    if (!finalStates.includes(status.state) || passesRunning(status)) return pollMs;
    const counts = JSON.stringify([status.sent, status.failed, status.pruned, status.optedOut, status.alreadySent, status.pending, status.matched, passSummaries(status)]);
    const previous = this.settling;
    this.settling = { counts, reads: (previous?.reads ?? 0) + 1 };
    if (previous === undefined) this.finished(status);
    if (previous?.counts === counts || this.settling.reads >= maxSettlingReads) return engagementPollMs;
    return settlingPollMs;
  }

  /** After an edit, recall or remind: says so, and follows the work it started from the next read. */
  private afterAction(note: string): void {
    this.actionNote.textContent = note;
    this.settling = undefined;
    clearTimeout(this.timer);
    void this.poll();
  }

  private async recall(): Promise<void> {
    const id = this.current;
    if (id === undefined || !(await confirmRecall())) return;
    this.recallButton.disabled = true;
    try {
      await this.api.recall(id);
      this.afterAction('Recalling: the message is being deleted from every chat it reached.');
    } catch (error) {
      showProblems(this.problems, [`Could not recall: ${error instanceof Error ? error.message : String(error)}`]);
    } finally {
      this.recallButton.disabled = false;
    }
  }

  private async remind(): Promise<void> {
    const id = this.current;
    if (id === undefined) return;
    this.remindButton.disabled = true;
    try {
      await this.api.remind(id);
      this.afterAction('Reminder on its way to everyone who has not acknowledged yet.');
    } catch (error) {
      showProblems(this.problems, [`Could not remind: ${error instanceof Error ? error.message : String(error)}`]);
    } finally {
      this.remindButton.disabled = false;
    }
  }

  private async download(): Promise<void> {
    const id = this.current;
    if (id === undefined) return;
    this.downloadButton.disabled = true;
    this.actionNote.textContent = 'Preparing the CSV file…';
    try {
      await downloadRecipientsCsv(this.api, id);
      this.actionNote.textContent = `Downloaded ${id}-recipients.csv.`;
    } catch (error) {
      this.actionNote.textContent = '';
      showProblems(this.problems, [`Could not download the recipients: ${error instanceof Error ? error.message : String(error)}`]);
    } finally {
      this.downloadButton.disabled = false;
    }
  }

  private async showFailures(after: string | undefined): Promise<void> {
    this.failuresAfter = after;
    clearTimeout(this.timer);
    await this.poll();
  }

  private async cancel(): Promise<void> {
    const id = this.current;
    if (id === undefined) return;
    this.cancelButton.disabled = true;
    const wasScheduled = this.state.dataset['state'] === 'scheduled';
    try {
      await this.api.cancel(id);
      // Kept for a scheduled one (it is final at once); a running one's note gives way to its next counts.
      this.cancelNote = wasScheduled ? 'Cancelled before its time: nothing is sent.' : undefined;
      showProblems(this.problems, [this.cancelNote ?? 'Cancelling: sending stops within seconds.']);
      clearTimeout(this.timer);
      void this.poll();
    } catch (error) {
      showProblems(this.problems, [`Could not cancel: ${error instanceof Error ? error.message : String(error)}`]);
      this.cancelButton.disabled = false;
    }
  }

  private render(status: NotificationStatus): void {
    const scheduled = status.state === 'scheduled';
    const revision = (status.revision ?? 1) > 1 ? `, revision ${status.revision}` : '';
    this.state.textContent = scheduled && status.sendAt ? `scheduled for ${when(status.sendAt)}` : `${status.state}${revision}`;
    this.state.dataset['state'] = status.state;
    const running = !finalStates.includes(status.state);
    this.cancelButton.hidden = !running;
    this.cancelButton.textContent = scheduled ? 'Cancel the scheduled send' : 'Cancel sending';
    if (running) this.cancelButton.disabled = false;
    const reached = !beforeOrGone.includes(status.state) && (running || status.sent > 0);
    this.editForm.offer(status.id, reached, status.content);
    this.recallButton.hidden = !reached;
    const asksAcknowledgement = typeof status.acknowledged === 'number';
    this.remindButton.hidden = !(reached && asksAcknowledgement);
    this.acknowledgedCount.hidden = !asksAcknowledgement;
    // Reasons people were not reached: shown when the server counts them and one of them is not 0.
    const unreached = [status.notFound, status.guest, status.notInstalled, status.blocked].some((count) => typeof count === 'number' && count > 0);
    for (const count of document.querySelectorAll<HTMLElement>('.reach-count')) count.hidden = !unreached;
    this.readCovers.textContent = status.readCovers === undefined ? '' : `Read counts ${status.readCovers} only.`;
    this.passes.replaceChildren(
      ...passSummaries(status).map((summary) => {
        const line = document.createElement('li');
        line.textContent = summary;
        return line;
      }),
    );
    this.setProgress(status);
    const counts: Record<string, number | null | undefined> = {
      matched: status.matched,
      sent: status.sent,
      failed: status.failed,
      pruned: status.pruned,
      optedOut: status.optedOut ?? 0,
      acknowledged: status.acknowledged,
      read: status.read ?? 0,
      notFound: status.notFound,
      guest: status.guest,
      notInstalled: status.notInstalled,
      blocked: status.blocked,
      // Unknown before it starts: the audience is counted at its time.
      pending: scheduled ? undefined : pendingOf(status),
      alreadySent: status.alreadySent,
      retried: status.retried,
    };
    for (const [name, value] of Object.entries(counts)) elementById(`count-${name}`, HTMLElement).textContent = formatCount(value);
    this.times.textContent = [
      status.createdAt ? `Created ${when(status.createdAt)}` : '',
      status.sendAt && !scheduled ? `scheduled for ${when(status.sendAt)}` : '',
      status.startedAt ? `started ${when(status.startedAt)}` : '',
      status.completedAt ? `finished ${when(status.completedAt)}` : '',
    ]
      .filter((part) => part !== '')
      .join(', ');
    this.renderFailures(status.failures ?? [], status.nextFailuresAfter);
    showProblems(this.problems, [
      ...(this.cancelNote === undefined ? [] : [this.cancelNote]),
      ...(status.error === undefined ? [] : [status.error]),
      ...(status.failedWork ?? []).map((work) => `Delivery to tenant ${work.tenantId} was given up after ${work.attempts} attempts: ${work.error}`),
    ]);
  }

  private setProgress(status: NotificationStatus | undefined): void {
    const progress = status === undefined ? { known: false as const } : progressOf(status);
    if (!progress.known) {
      const waiting = status?.state === 'scheduled';
      this.progress.removeAttribute('aria-valuenow');
      this.progress.setAttribute('aria-valuetext', status === undefined ? 'Loading' : waiting ? 'Not started: it is scheduled' : 'Counting the audience');
      this.progressFill.style.width = '0%';
      this.progress.classList.toggle('indeterminate', !waiting);
      return;
    }
    this.progress.classList.remove('indeterminate');
    this.progress.setAttribute('aria-valuenow', String(progress.percent));
    this.progress.setAttribute('aria-valuetext', `${progress.percent}%: ${formatCount(progress.done)} of ${formatCount(progress.matched)} recipients done`);
    this.progressFill.style.width = `${progress.percent}%`;
  }

  private renderFailures(failures: readonly DeliveryFailure[], next: string | undefined): void {
    this.nextFailuresAfter = next;
    this.failureRows.replaceChildren(
      ...failures.map((failure) => {
        const row = document.createElement('tr');
        for (const value of [failure.conversationId ?? '', failure.tenantId ?? '', String(failure.status ?? ''), failure.code ?? '', failure.message ?? '', failure.pruned ? 'yes' : 'no']) {
          row.insertCell().textContent = value;
        }
        return row;
      }),
    );
    const none = failures.length === 0 && this.failuresAfter === undefined;
    this.failuresTable.hidden = none;
    this.failuresEmpty.hidden = !none;
    this.failuresNext.hidden = next === undefined;
    this.failuresFirst.hidden = this.failuresAfter === undefined;
  }
}

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
