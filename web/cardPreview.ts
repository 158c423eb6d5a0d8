import { AdaptiveCard, HostConfig, SerializationContext, ValidationEvent, type IValidationEvent } from 'adaptivecards';

/**
 * Reads the Adaptive Card editor: JSON → a card the API accepts (an object
 * whose `type` is "AdaptiveCard"), checked and rendered by Microsoft's own
 * renderer (the `adaptivecards` package), the renderer the Bot Framework
 * tools use. A problem the renderer reports makes the card invalid, except
 * advice (hints, deprecations, inputs without label), which is shown as notes.
 */

export type CardCheck =
  | { readonly ok: true; readonly card: Record<string, unknown>; readonly rendered: HTMLElement; readonly notes: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

const adviceOnly: readonly ValidationEvent[] = [
  ValidationEvent.Hint,
  ValidationEvent.Deprecated,
  ValidationEvent.RequiredInputsShouldHaveLabel,
  ValidationEvent.RequiredInputsShouldHaveErrorMessage,
];

/** Close to Teams' look: its font, sizes and accent colour. */
const teamsLikeHostConfig = new HostConfig({
  fontFamily: '"Segoe UI", system-ui, -apple-system, sans-serif',
  containerStyles: {
    default: { backgroundColor: '#FFFFFF', foregroundColors: { default: { default: '#242424', subtle: '#616161' }, accent: { default: '#4F52B2' } } },
    emphasis: { backgroundColor: '#F5F5F5', foregroundColors: { default: { default: '#242424', subtle: '#616161' } } },
  },
  actions: { actionsOrientation: 'horizontal', actionAlignment: 'left', buttonSpacing: 8, maxActions: 6 },
});

export function checkCard(json: string): CardCheck {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, problems: [`The card is not valid JSON: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: ['The card must be a JSON object, such as {"type": "AdaptiveCard", "version": "1.5", "body": []}.'] };
  }
  const card = value as Record<string, unknown>;
  if (card['type'] !== 'AdaptiveCard') return { ok: false, problems: ['The card\'s "type" must be "AdaptiveCard".'] };

  const adaptiveCard = new AdaptiveCard();
  adaptiveCard.hostConfig = teamsLikeHostConfig;
  // The preview shows the card; its buttons do nothing here.
  adaptiveCard.onExecuteAction = () => undefined;
  const context = new SerializationContext();
  adaptiveCard.parse(card, context);
  const events: IValidationEvent[] = [];
  for (let index = 0; index < context.eventCount; index++) events.push(context.getEventAt(index));
  events.push(...adaptiveCard.validateProperties().validationEvents);
  const messages = (advice: boolean): string[] => [
    ...new Set(events.filter((event) => adviceOnly.includes(event.event) === advice).map((event) => event.message)),
  ];
  const problems = messages(false);
  if (problems.length > 0) return { ok: false, problems };

  const rendered = adaptiveCard.render();
  if (rendered === undefined) return { ok: false, problems: ['The renderer could not render this card.'] };
  return { ok: true, card, rendered, notes: messages(true).map((message) => `Note: ${message}`) };
}
