import { CardFactory, type Attachment } from 'botbuilder';

/**
 * What the bot says, written for the person in Teams: plain words, no endpoints, settings or
 * operator details. "stop" and "start" are the only words to remember.
 */

/** Where the bot is talking: someone's 1:1 chat with it, or a group chat or channel (everybody's). */
export type ChatScope = 'personal' | 'group';

export interface TextOptions {
  /** Whether people may turn notifications off (opt-out allowed by the organisation). */
  readonly optOutAllowed: boolean;
}

export function welcomeText(scope: ChatScope, { optOutAllowed }: TextOptions): string {
  if (scope === 'group') return 'Hi! I will post notifications in this conversation.';
  return optOutAllowed
    ? 'Hi! I will send you notifications here. There is nothing you need to do. If you would rather not get them, send "stop" at any time.'
    : 'Hi! I will send you notifications here. There is nothing you need to do.';
}

export const stoppedText = 'Done: you will not get notifications from me any more. If you change your mind, send "start".';
export const alreadyStoppedText = 'Notifications from me are already turned off for you. Send "start" to get them again.';
export const startedText = 'Welcome back: you will get notifications from me again. Send "stop" to turn them off.';
export const alreadyStartedText = 'You are already getting notifications from me. Send "stop" if you would rather not.';
export const cannotStopText =
  'Notifications from me cannot be turned off in this chat. If you have questions about them, ask the people who send them.';
export const groupCannotStopText =
  'Notifications here go to everyone in this conversation, so they cannot be turned off for one person. ' +
  'To stop the ones I send you, send "stop" to me in a 1:1 chat.';
export const tryAgainText = 'Sorry, I could not do that just now. Please try again in a few minutes.';
/** A press of an acknowledge button that cannot be recorded: the message is unknown or never asked. */
export const notAcknowledgeableText = 'This message does not collect acknowledgements, so your press was not recorded. There is nothing you need to do.';
/** A press after the sender took the message back. */
export const recalledAcknowledgementText = 'This message was withdrawn by its sender, so your acknowledgement was not recorded. There is nothing you need to do.';

const helpGroupText = 'I post notifications in this conversation. There is nothing you need to do.';
const helpFixedText = 'I send you notifications here. There is nothing you need to do.';
const helpSubscribedText = 'I send you notifications here. There is nothing you need to do. If you would rather not get them, send "stop" or press the button.';
const helpStoppedText = 'You have turned notifications from me off. To get them again, send "start" or press the button.';

/** The help: plain text, or (personal chat, opt-out allowed) a card whose button sends "stop" or "start". */
export type Help = { readonly text: string } | { readonly card: Attachment; readonly text: string };

export function help(scope: ChatScope, { optOutAllowed }: TextOptions, optedOut: boolean): Help {
  if (scope === 'group') return { text: helpGroupText };
  if (!optOutAllowed) return { text: helpFixedText };
  return optedOut
    ? { text: helpStoppedText, card: commandCard(helpStoppedText, 'start', 'Start notifications') }
    : { text: helpSubscribedText, card: commandCard(helpSubscribedText, 'stop', 'Stop notifications') };
}

/**
 * A card with one button that sends the command as if typed: Teams' messageBack puts `text` in the
 * message; other channels send the card's data as the message's value (`command`).
 */
function commandCard(text: string, command: 'stop' | 'start', label: string): Attachment {
  return CardFactory.adaptiveCard({
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.2',
    body: [{ type: 'TextBlock', text, wrap: true }],
    actions: [
      {
        type: 'Action.Submit',
        title: label,
        data: { command, msteams: { type: 'messageBack', text: command, displayText: command } },
      },
    ],
  });
}
