import type { ConversationType } from '../shared/notifications/notificationRequest';
import { localInputValue, localSendAt } from '../shared/notifications/localSendAt';
import { activityBytes, messageActivity } from '../shared/notifications/messageActivity';
import { maxScheduleDays } from '../shared/notifications/sendAt';
import { checkCard } from './cardPreview';
import { elementById, formatCount, showProblems } from './elementById';
import type { NotificationBody } from './notificationApi';

/**
 * The compose form: message, optional Adaptive Card, targeting and id, read
 * into the body `POST /api/notifications` takes. It checks what it can
 * before asking the server: an empty message, the card (JSON and renderer),
 * and the size, counted with the server's own code, and a "Send later" time
 * against the API's bounds. `sendAt` is apart from the body: the audience
 * preview takes the body without it.
 */

export type Composition =
  | { readonly ok: true; readonly body: NotificationBody; readonly sendAt?: string }
  /** `problems` is empty when nothing has been written yet. */
  | { readonly ok: false; readonly problems: readonly string[] };

const targetFields = ['tenantIds', 'userIds', 'conversationIds', 'channelIds'] as const;
const conversationTypeBoxes: readonly ConversationType[] = ['personal', 'groupChat', 'channel'];

export class ComposeForm {
  readonly form = elementById('compose-form', HTMLFormElement);
  private readonly message = elementById('message', HTMLTextAreaElement);
  private readonly messageSize = elementById('message-size', HTMLElement);
  private readonly useCard = elementById('use-card', HTMLInputElement);
  private readonly cardFields = elementById('card-fields', HTMLElement);
  private readonly cardJson = elementById('card-json', HTMLTextAreaElement);
  private readonly cardProblems = elementById('card-problems', HTMLElement);
  private readonly previewText = elementById('preview-text', HTMLElement);
  private readonly cardPreview = elementById('card-preview', HTMLElement);
  private readonly notificationId = elementById('notification-id', HTMLInputElement);
  private readonly sendLater = elementById('send-later', HTMLInputElement);
  private readonly sendLaterFields = elementById('send-later-fields', HTMLElement);
  private readonly sendAtInput = elementById('send-at', HTMLInputElement);
  private readonly sendAtProblems = elementById('send-at-problems', HTMLElement);

  constructor(private readonly maxMessageBytes: number) {
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
    this.useCard.addEventListener('change', () => {
      this.cardFields.hidden = !this.useCard.checked;
      if (this.useCard.checked && this.cardJson.value.trim() === '') this.cardJson.value = starterCard;
      update();
    });
    this.sendLater.addEventListener('change', () => {
      this.sendLaterFields.hidden = !this.sendLater.checked;
      if (this.sendLater.checked) this.boundPicker();
      update();
    });
    this.sendAtInput.addEventListener('focus', () => this.boundPicker());
  }

  /** Reads the form, shows the size, the card preview and the card's problems, and says whether it can be sent. */
  read(): Composition {
    const problems: string[] = [];
    const text = this.message.value;
    this.previewText.textContent = text;

    let card: Record<string, unknown> | undefined;
    if (this.useCard.checked) {
      const check = checkCard(this.cardJson.value);
      if (check.ok) {
        card = check.card;
        this.cardPreview.replaceChildren(check.rendered);
      } else {
        this.cardPreview.replaceChildren();
        problems.push(...check.problems);
      }
      showProblems(this.cardProblems, check.ok ? check.notes : check.problems);
      this.cardJson.setAttribute('aria-invalid', String(!check.ok));
    } else {
      this.cardPreview.replaceChildren();
      showProblems(this.cardProblems, []);
      this.cardJson.removeAttribute('aria-invalid');
    }

    const hasText = text.trim() !== '';
    const bytes = activityBytes(messageActivity(hasText ? text : undefined, card));
    const tooLarge = bytes > this.maxMessageBytes;
    this.messageSize.textContent = `${formatCount(bytes)} of ${formatCount(this.maxMessageBytes)} bytes${tooLarge ? ': too large, shorten the text or the card' : ''}`;
    this.messageSize.classList.toggle('over-limit', tooLarge);
    this.message.setAttribute('aria-invalid', String(tooLarge));
    if (tooLarge) problems.push(`The message is ${formatCount(bytes)} bytes; the limit is ${formatCount(this.maxMessageBytes)}.`);
    const sendAt = this.readSendAt(problems);
    // Nothing written yet is not a problem to point out, but nothing to send either.
    if (problems.length > 0 || (!hasText && !this.useCard.checked)) return { ok: false, problems };
    const target = this.target();
    const id = this.notificationId.value.trim();
    return {
      ok: true,
      body: {
        ...(id === '' ? {} : { id }),
        ...(hasText ? { text } : {}),
        ...(card === undefined ? {} : { card }),
        ...(target === undefined ? {} : { target }),
      },
      ...(sendAt === undefined ? {} : { sendAt }),
    };
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

const starterCard = JSON.stringify(
  {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: 'Title', weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'TextBlock', text: 'What people should know.', wrap: true },
    ],
  },
  null,
  2,
);
