import type { ConversationType } from '../shared/notifications/notificationRequest';
import { localInputValue, localSendAt } from '../shared/notifications/localSendAt';
import { maxScheduleDays } from '../shared/notifications/sendAt';
import { AudiencePicker } from './audiencePicker';
import { elementById, showProblems } from './elementById';
import { MessageFields } from './messageFields';
import type { NotificationApi, NotificationBody } from './notificationApi';

/**
 * The compose form: message, optional Adaptive Card, the acknowledge button,
 * who receives it and the id, read into the body `POST /api/notifications`
 * takes. It checks what it can before asking the server: an empty message,
 * the card (JSON and renderer), the size, counted with the server's own
 * code, pasted addresses and group ids, and a "Send later" time against the
 * API's bounds. `sendAt` is apart from the body: the audience preview takes
 * the body without it.
 *
 * Who receives it: with no team, person or group chosen, the stored
 * conversations the filters select (all of them when the filters are empty),
 * as `target`; otherwise an `audience` of the chosen sources, plus the
 * stored conversations the filters select when any filter is filled.
 */

export type Composition =
  | { readonly ok: true; readonly body: NotificationBody; readonly sendAt?: string }
  /** `problems` is empty when nothing has been written yet. */
  | { readonly ok: false; readonly problems: readonly string[] };

const targetFields = ['tenantIds', 'userIds', 'conversationIds', 'channelIds'] as const;
const conversationTypeBoxes: readonly ConversationType[] = ['personal', 'groupChat', 'channel'];

export class ComposeForm {
  readonly form = elementById('compose-form', HTMLFormElement);
  readonly audience: AudiencePicker;
  private readonly message: MessageFields;
  private readonly acknowledge = elementById('ask-acknowledge', HTMLInputElement);
  private readonly acknowledgeFields = elementById('acknowledge-fields', HTMLElement);
  private readonly acknowledgeLabel = elementById('acknowledge-label', HTMLInputElement);
  private readonly acknowledgeProblems = elementById('acknowledge-problems', HTMLElement);
  private readonly notificationId = elementById('notification-id', HTMLInputElement);
  private readonly sendLater = elementById('send-later', HTMLInputElement);
  private readonly sendLaterFields = elementById('send-later-fields', HTMLElement);
  private readonly sendAtInput = elementById('send-at', HTMLInputElement);
  private readonly sendAtProblems = elementById('send-at-problems', HTMLElement);

  constructor(maxMessageBytes: number, api: NotificationApi) {
    this.message = new MessageFields(
      {
        text: 'message',
        size: 'message-size',
        useCard: 'use-card',
        cardFields: 'card-fields',
        cardJson: 'card-json',
        cardProblems: 'card-problems',
        previewText: 'preview-text',
        cardPreview: 'card-preview',
      },
      maxMessageBytes,
    );
    this.audience = new AudiencePicker(api);
    const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    elementById('send-at-hint', HTMLElement).textContent = `In your time zone: ${timeZone}. From now up to ${maxScheduleDays} days ahead.`;
  }

  /** True when "Send later" is chosen: the submit schedules. */
  get scheduling(): boolean {
    return this.sendLater.checked;
  }

  /** Calls `changed` after every edit of any field, with the form read afresh. */
  onChange(changed: (composition: Composition) => void): void {
    const update = (): void => changed(this.read());
    this.form.addEventListener('input', update);
    this.form.addEventListener('change', update);
    this.message.onCardToggle(update);
    this.acknowledge.addEventListener('change', () => {
      this.acknowledgeFields.hidden = !this.acknowledge.checked;
      update();
    });
    this.sendLater.addEventListener('change', () => {
      this.sendLaterFields.hidden = !this.sendLater.checked;
      if (this.sendLater.checked) this.boundPicker();
      update();
    });
    this.sendAtInput.addEventListener('focus', () => this.boundPicker());
    void this.audience.loadTeams(update);
  }

  /** Reads the form, shows the size, the card preview and the problems beside their fields, and says whether it can be sent. */
  read(): Composition {
    const acknowledge = this.readAcknowledge();
    const message = this.message.read(acknowledge.label);
    const chosen = this.audience.read();
    const problems = [...message.problems, ...acknowledge.problems, ...chosen.problems];
    const sendAt = this.readSendAt(problems);
    // Nothing written yet is not a problem to point out, but nothing to send either.
    if (problems.length > 0 || message.empty) return { ok: false, problems };
    const target = this.target();
    const audience = chosen.sources.length === 0 ? undefined : [...chosen.sources, ...(target === undefined ? [] : [{ stored: target }])];
    const id = this.notificationId.value.trim();
    return {
      ok: true,
      body: {
        ...(id === '' ? {} : { id }),
        ...(message.text === undefined ? {} : { text: message.text }),
        ...(message.card === undefined ? {} : { card: message.card }),
        ...(acknowledge.label === undefined ? {} : { acknowledge: { label: acknowledge.label } }),
        ...(audience !== undefined ? { audience } : target === undefined ? {} : { target }),
      },
      ...(sendAt === undefined ? {} : { sendAt }),
    };
  }

  /** The button's label when acknowledgements are asked for; a blank one is a problem. */
  private readAcknowledge(): { label?: string; problems: string[] } {
    if (!this.acknowledge.checked) {
      showProblems(this.acknowledgeProblems, []);
      this.acknowledgeLabel.removeAttribute('aria-invalid');
      return { problems: [] };
    }
    const label = this.acknowledgeLabel.value.trim();
    const problems = label === '' ? ['Write the button\'s label, such as "Got it".'] : [];
    showProblems(this.acknowledgeProblems, problems);
    this.acknowledgeLabel.setAttribute('aria-invalid', String(problems.length > 0));
    return label === '' ? { problems: problems.map((problem) => `Acknowledgement: ${problem}`) } : { label, problems: [] };
  }

  /** The chosen time as `sendAt`, or undefined when sending now; its problem goes beside the field and into `problems`. */
  private readSendAt(problems: string[]): string | undefined {
    if (!this.sendLater.checked) {
      showProblems(this.sendAtProblems, []);
      this.sendAtInput.removeAttribute('aria-invalid');
      return undefined;
    }
    const check = localSendAt(this.sendAtInput.value, new Date());
    showProblems(this.sendAtProblems, check.ok ? [] : [check.problem]);
    this.sendAtInput.setAttribute('aria-invalid', String(!check.ok));
    if (!check.ok) {
      problems.push(`Send later: ${check.problem}`);
      return undefined;
    }
    return check.sendAt;
  }

  /** Keeps the browser's date picker within now … 7 days ahead (the check above is what counts). */
  private boundPicker(): void {
    const now = new Date();
    this.sendAtInput.min = localInputValue(now);
    this.sendAtInput.max = localInputValue(new Date(now.getTime() + maxScheduleDays * 24 * 3_600_000));
  }

  private target(): NotificationBody['target'] {
    const target: Record<string, string[]> = {};
    for (const field of targetFields) {
      const values = elementById(`target-${field}`, HTMLTextAreaElement)
        .value.split(/[\s,]+/)
        .filter((value) => value !== '');
      if (values.length > 0) target[field] = [...new Set(values)];
    }
    const types = conversationTypeBoxes.filter((type) => elementById(`type-${type}`, HTMLInputElement).checked);
    if (types.length > 0) target['conversationTypes'] = types;
    return Object.keys(target).length > 0 ? target : undefined;
  }
}
