import { withAcknowledgeButton } from '../shared/engagement/acknowledgementCard';
import { activityBytes, adaptiveCardContentType, messageActivity } from '../shared/notifications/messageActivity';
import { checkCard } from './cardPreview';
import { elementById, formatCount, showProblems } from './elementById';

/**
 * A message's fields: its text and an optional Adaptive Card, with the
 * preview beside them (the card checked and rendered as Teams would), and
 * the size counted with the server's own code. The compose form and the
 * edit form of a sent notification each have one, on their own elements.
 */

/** The ids of a message's elements in index.html. */
export interface MessageFieldIds {
  readonly text: string;
  readonly size: string;
  readonly useCard: string;
  readonly cardFields: string;
  readonly cardJson: string;
  readonly cardProblems: string;
  readonly previewText: string;
  readonly cardPreview: string;
}

export interface MessageRead {
  /** What stops it being sent; empty when it can be. */
  readonly problems: readonly string[];
  /** Nothing written and no card: nothing to send, but nothing to point out either. */
  readonly empty: boolean;
  readonly text?: string;
  readonly card?: Record<string, unknown>;
}

/** The longest notification id: the acknowledge button names it, so the size is counted with it. */
const longestNotificationId = 'x'.repeat(128);

export class MessageFields {
  private readonly text: HTMLTextAreaElement;
  private readonly size: HTMLElement;
  private readonly useCard: HTMLInputElement;
  private readonly cardFields: HTMLElement;
  private readonly cardJson: HTMLTextAreaElement;
  private readonly cardProblems: HTMLElement;
  private readonly previewText: HTMLElement;
  private readonly cardPreview: HTMLElement;

  constructor(
    ids: MessageFieldIds,
    private readonly maxMessageBytes: number,
  ) {
    this.text = elementById(ids.text, HTMLTextAreaElement);
    this.size = elementById(ids.size, HTMLElement);
    this.useCard = elementById(ids.useCard, HTMLInputElement);
    this.cardFields = elementById(ids.cardFields, HTMLElement);
    this.cardJson = elementById(ids.cardJson, HTMLTextAreaElement);
    this.cardProblems = elementById(ids.cardProblems, HTMLElement);
    this.previewText = elementById(ids.previewText, HTMLElement);
    this.cardPreview = elementById(ids.cardPreview, HTMLElement);
  }

  /** Shows the card's fields when the box is ticked (with a starter card the first time), then calls `changed`. */
  onCardToggle(changed: () => void): void {
    this.useCard.addEventListener('change', () => {
      this.cardFields.hidden = !this.useCard.checked;
      if (this.useCard.checked && this.cardJson.value.trim() === '') this.cardJson.value = starterCard;
      changed();
    });
  }

  /** Puts a message in the fields (its card as indented JSON, the card's fields shown) and previews it. */
  fill(message: { readonly text?: string; readonly card?: Record<string, unknown> }): void {
    this.text.value = message.text ?? '';
    this.useCard.checked = message.card !== undefined;
    this.cardFields.hidden = message.card === undefined;
    this.cardJson.value = message.card === undefined ? '' : JSON.stringify(message.card, null, 2);
    this.read();
  }

  /** Empties the fields (and the preview). */
  clear(): void {
    this.text.value = '';
    this.useCard.checked = false;
    this.cardFields.hidden = true;
    this.cardJson.value = '';
    this.read();
  }

  /**
   * Reads the fields, shows the preview, the size and the card's problems.
   * With `acknowledgeLabel`, the preview and the size are those of the
   * message as it goes out: with its acknowledge button.
   */
  read(acknowledgeLabel?: string): MessageRead {
    const problems: string[] = [];
    const text = this.text.value;
    const hasText = text.trim() !== '';
    this.previewText.textContent = text;

    let card: Record<string, unknown> | undefined;
    if (this.useCard.checked) {
      const check = checkCard(this.cardJson.value);
      if (check.ok) card = check.card;
      else problems.push(...check.problems);
      showProblems(this.cardProblems, check.ok ? check.notes : check.problems);
      this.cardJson.setAttribute('aria-invalid', String(!check.ok));
    } else {
      showProblems(this.cardProblems, []);
      this.cardJson.removeAttribute('aria-invalid');
    }

    const empty = !hasText && !this.useCard.checked;
    let activity = messageActivity(hasText ? text : undefined, card);
    if (acknowledgeLabel !== undefined && !empty && problems.length === 0) {
      activity = withAcknowledgeButton(activity, longestNotificationId, { label: acknowledgeLabel });
    }
    this.showCard(problems.length === 0 ? cardOf(activity) : undefined);

    const bytes = activityBytes(activity);
    const tooLarge = bytes > this.maxMessageBytes;
    this.size.textContent = `${formatCount(bytes)} of ${formatCount(this.maxMessageBytes)} bytes${tooLarge ? ': too large, shorten the text or the card' : ''}`;
    this.size.classList.toggle('over-limit', tooLarge);
    this.text.setAttribute('aria-invalid', String(tooLarge));
    if (tooLarge) problems.push(`The message is ${formatCount(bytes)} bytes; the limit is ${formatCount(this.maxMessageBytes)}.`);
    return { problems, empty, ...(hasText ? { text } : {}), ...(card === undefined ? {} : { card }) };
  }

  private showCard(card: Record<string, unknown> | undefined): void {
    if (card === undefined) {
      this.cardPreview.replaceChildren();
      return;
    }
    const check = checkCard(JSON.stringify(card));
    this.cardPreview.replaceChildren(...(check.ok ? [check.rendered] : []));
  }
}

function cardOf(activity: ReturnType<typeof messageActivity>): Record<string, unknown> | undefined {
  const attachment = activity.attachments?.find((candidate) => candidate.contentType === adaptiveCardContentType);
  return attachment?.content as Record<string, unknown> | undefined;
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
