import type { PersonalConversationOutcome, PersonalConversations, PersonRecipient } from '../delivery/broadcastTypes';
import type { SendOptions } from '../delivery/proactiveSender';
import type { Logger } from '../logger';
import type { ConversationStore } from '../storage/conversationStore';
import type { TeamsConnector } from './teamsConnector';

/**
 * The engine's default way to a person's personal chat: `POST /v3/conversations` (Teams answers
 * with the existing chat if there is one), then the reference is stored, so that the next
 * notification finds it and costs one request, not two. A stored chat is not looked up here: a
 * planner that knows the person's stored chat sends to it directly, or wraps this hook.
 */
export class ConnectorPersonalConversations implements PersonalConversations {
  constructor(
    private readonly teams: Pick<TeamsConnector, 'createPersonalConversationOnce'>,
    private readonly store: Pick<ConversationStore, 'upsert'>,
    private readonly logger: Logger,
  ) {}

  async findOrCreate(person: PersonRecipient, options: SendOptions): Promise<PersonalConversationOutcome> {
    const created = await this.teams.createPersonalConversationOnce(
      { serviceUrl: person.serviceUrl, tenantId: person.tenantId, memberId: person.memberId, aadObjectId: person.aadObjectId },
      options,
    );
    if (!created.ok) {
      const { reason, status, code, message } = created;
      return { ok: false, reason, status, code, message };
    }
    try {
      await this.store.upsert(created.conversation);
    } catch (error) {
      // The chat is open and the message can go; only the next notification pays for opening it again.
      this.logger.warn(`Opened a personal chat in tenant ${person.tenantId} but could not store it: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { ok: true, conversation: created.conversation, opened: true };
  }
}
