import type { AcknowledgementRecord } from '../engagement/acknowledgementStore';
import { isPersonalConversation, personKey } from '../engagement/optOutStore';
import { deliveryRowKey } from '../ledgers/deliveryLedgers';
import type { StoredConversation } from '../storage/conversationStore';
import type { QueuedDependencies } from './workContext';

/**
 * A notification's acknowledgements by chat, as a pass over its delivered chats reads them once per
 * slice: a reminder leaves out the chats that acknowledged (remindPass.ts), an edit shows the
 * acknowledged card to the person of a personal chat who pressed (passActions.ts).
 */
export class AcknowledgedChats {
  private readonly byChat = new Map<string, AcknowledgementRecord>();
  private readonly byPerson = new Map<string, AcknowledgementRecord>();

  constructor(records: readonly AcknowledgementRecord[]) {
    for (const record of records) {
      this.byChat.set(deliveryRowKey(record.conversation), record);
      this.byPerson.set(record.personKey, record);
    }
  }

  /**
   * The acknowledgement of a personal chat's person, wherever they pressed (by their Entra id, else
   * their user id; or a press in that chat, which only its person can make); undefined for a group
   * chat or a channel, which many people share.
   */
  ofPerson(conversation: StoredConversation): AcknowledgementRecord | undefined {
    if (!isPersonalConversation(conversation)) return undefined;
    return this.byPerson.get(personKey(conversation)) ?? this.byChat.get(deliveryRowKey(conversation));
  }

  /** Someone pressed the button in this chat, or (a personal chat) its person pressed it anywhere. */
  has(conversation: StoredConversation): boolean {
    return this.byChat.has(deliveryRowKey(conversation)) || this.ofPerson(conversation) !== undefined;
  }
}

/** Every acknowledgement of the notification (a query per 1,000); none when the app keeps none. */
export async function readAcknowledgedChats(deps: Pick<QueuedDependencies, 'acknowledgements'>, notificationId: string): Promise<AcknowledgedChats> {
  return new AcknowledgedChats((await deps.acknowledgements?.list(notificationId)) ?? []);
}
