import { elementById, showProblems } from './elementById';
import { MessageFields } from './messageFields';
import { ApiError, type MessageEdit, type NotificationApi } from './notificationApi';

/**
 * Edit a sent notification: a new text and/or card, with the same preview
 * and size check as the compose form, sent as `PATCH /api/notifications/{id}`.
 * The form opens on the message as it reads now (the status's `content`), so
 * a small correction is a small change. The server replaces the message in
 * every chat it reached.
 */
export class EditForm {
  private readonly form = elementById('edit-form', HTMLFormElement);
  private readonly openButton = elementById('edit', HTMLButtonElement);
  private readonly save = elementById('edit-save', HTMLButtonElement);
  private readonly problems = elementById('edit-problems', HTMLElement);
  private readonly fields: MessageFields;
  private notificationId: string | undefined;
  /** The message as the last status read it: what the form opens on. */
  private current: MessageEdit | undefined;
  private saving = false;

  constructor(
    private readonly api: NotificationApi,
    maxMessageBytes: number,
    /** Called once the server has taken the edit. */
    private readonly edited: (id: string) => void,
  ) {
    this.fields = new MessageFields(
      {
        text: 'edit-message',
        size: 'edit-message-size',
        useCard: 'edit-use-card',
        cardFields: 'edit-card-fields',
        cardJson: 'edit-card-json',
        cardProblems: 'edit-card-problems',
        previewText: 'edit-preview-text',
        cardPreview: 'edit-card-preview',
      },
      maxMessageBytes,
    );
    const update = (): void => {
      this.check();
    };
    this.form.addEventListener('input', update);
    this.form.addEventListener('change', update);
    this.fields.onCardToggle(update);
    this.openButton.addEventListener('click', () => (this.form.hidden ? this.open() : this.close()));
    elementById('edit-close', HTMLButtonElement).addEventListener('click', () => this.close());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  /**
   * Shows the Edit button for this notification (or hides it and the form when it cannot be edited).
   * `current` is its message as it reads now; an open form keeps what is being typed.
   */
  offer(id: string, editable: boolean, current?: MessageEdit): void {
    if (id !== this.notificationId) {
      this.notificationId = id;
      this.current = undefined;
      this.close();
    }
    if (current !== undefined) this.current = current;
    this.openButton.hidden = !editable;
    if (!editable) this.close();
  }

  private open(): void {
    if (this.current === undefined) this.fields.clear();
    else this.fields.fill(this.current);
    showProblems(this.problems, []);
    this.form.hidden = false;
    this.openButton.setAttribute('aria-expanded', 'true');
    this.check();
    elementById('edit-message', HTMLTextAreaElement).focus();
  }

  private close(): void {
    if (this.form.hidden) return;
    this.form.hidden = true;
    this.openButton.setAttribute('aria-expanded', 'false');
  }

  private check(): { text?: string; card?: Record<string, unknown> } | undefined {
    const message = this.fields.read();
    const ok = message.problems.length === 0 && !message.empty;
    showProblems(this.problems, message.problems);
    this.save.disabled = this.saving || !ok;
    if (!ok) return undefined;
    return { ...(message.text === undefined ? {} : { text: message.text }), ...(message.card === undefined ? {} : { card: message.card }) };
  }

  private async submit(): Promise<void> {
    const id = this.notificationId;
    const edit = this.check();
    if (id === undefined || edit === undefined || this.saving) return;
    this.saving = true;
    this.save.disabled = true;
    this.save.textContent = 'Replacing…';
    try {
      await this.api.edit(id, edit);
      this.close();
      this.edited(id);
    } catch (error) {
      showProblems(this.problems, error instanceof ApiError ? [...error.problems] : [`Could not edit: ${String(error)}`]);
    } finally {
      this.saving = false;
      this.save.textContent = 'Replace the message everywhere';
      this.check();
    }
  }
}
