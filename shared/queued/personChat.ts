import type { PersonRecipient } from '../audience/plannedRecipient';
import type { DeliveredChat } from '../ledgers/deliveryLedgers';
import type { StoredConversation } from '../storage/conversationStore';

/**
 * The personal chat a person reached through an audience source was delivered in, as the delivery
 * engine addresses a conversation: what the ledger recorded (the chat's id and service URL), the
 * tenant, and the person (their Entra id makes it their personal chat for opt-outs and acknowledgements).
 */
export function personChat(person: PersonRecipient, chat: DeliveredChat, botId: string | undefined): StoredConversation {
  const channelId = 'msteams';
  const userId = person.memberId ?? person.aadObjectId;
  const { tenantId, aadObjectId } = person;
  return {
    channelId,
    conversationId: chat.conversationId,
    serviceUrl: chat.serviceUrl,
    tenantId,
    userId,
    aadObjectId,
    conversationType: 'personal',
    updatedAt: new Date(0),
    reference: {
      channelId,
      serviceUrl: chat.serviceUrl,
      ...(botId === undefined ? {} : { bot: { id: botId, name: '' } }),
      user: { id: userId, name: person.name ?? '', aadObjectId },
      conversation: { id: chat.conversationId, tenantId, isGroup: false, conversationType: 'personal', name: '' },
    },
  };
}
