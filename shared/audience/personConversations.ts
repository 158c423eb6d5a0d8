import type { PersonalConversationOutcome, PersonalConversations, PersonRecipient } from '../delivery/broadcastTypes';
import type { SendOptions } from '../delivery/proactiveSender';
import type { Directory } from '../graph/directory';
import { GraphPermissionError } from '../graph/graphErrors';
import type { ConversationStore, StoredConversation } from '../storage/conversationStore';
import type { PersonIndex } from './personIndex';

export interface PersonConversationsDependencies {
  readonly index: PersonIndex;
  /** Opens the chat through Teams (`POST /v3/conversations`, through the tenant's gate) and stores it: ConnectorPersonalConversations. */
  readonly connector: PersonalConversations;
  readonly directory: Directory;
  /** The chat of someone installed for through Graph is stored, so the next notification costs one request. */
  readonly store: Pick<ConversationStore, 'upsert'>;
  /** NOTIFY_INSTALL_FOR_USERS: people with no chat and no team shared with the bot get the app installed through Graph. */
  readonly installForUsers: boolean;
  /** MicrosoftAppId, the bot in the references built here. */
  readonly botId: string;
}

/**
 * The engine's way to a person's personal chat (its `personalConversations`
 * hook) for queued notifications: a stored one is reused (the person index,
 * one point read); otherwise Teams opens it (the connector's create, counted
 * in the tenant's budget); someone Teams refuses because they have no app and
 * share no team with the bot is installed for through Graph when allowed, and
 * the chat id Graph gives is used, else they stay `notInstalled`. Every chat
 * found this way is indexed.
 */
export class PersonConversations implements PersonalConversations {
  constructor(private readonly deps: PersonConversationsDependencies) {}

  async findOrCreate(person: PersonRecipient, options: SendOptions): Promise<PersonalConversationOutcome> {
    const stored = person.aadObjectId === '' ? undefined : await this.deps.index.get(person.tenantId, person.aadObjectId);
    if (stored !== undefined) return { ok: true, conversation: stored, opened: false };
    const created = await this.deps.connector.findOrCreate(person, options);
    if (created.ok) {
      await this.deps.index.put(created.conversation);
      return created;
    }
    if (created.reason !== 'notInstalled') return created;
    if (!this.deps.installForUsers) {
      return { ...created, message: `${created.message} (no chat with the bot and no team shared with it; installing the app for people is turned off)` };
    }
    return this.install(person);
  }

  private async install(person: PersonRecipient): Promise<PersonalConversationOutcome> {
    let results;
    try {
      results = await this.deps.directory.installForUsers(person.tenantId, [person.aadObjectId]);
    } catch (error) {
      // A permission to grant is the person's outcome, named; an outage is retried like a failed send.
      if (error instanceof GraphPermissionError) return { ok: false, reason: 'notInstalled', status: 403, code: 'GraphPermissionMissing', message: error.message };
      throw error;
    }
    const [result] = results;
    if (result?.outcome === 'installed') {
      const conversation = this.chat(person, result.chatId);
      await this.deps.store.upsert(conversation);
      await this.deps.index.put(conversation);
      return { ok: true, conversation, opened: true };
    }
    if (result?.outcome === 'notFound') return { ok: false, reason: 'notFound', status: 404, code: 'UserNotFound', message: `No user ${person.aadObjectId} in the directory.` };
    return { ok: false, reason: 'notInstalled', code: 'InstallFailed', message: `The app could not be installed for ${person.aadObjectId}: ${result?.outcome === 'failed' ? result.error : 'Graph gave no answer for them'}` };
  }

  private chat(person: PersonRecipient, conversationId: string): StoredConversation {
    const { tenantId, serviceUrl, channelId, memberId, aadObjectId } = person;
    return {
      channelId,
      conversationId,
      serviceUrl,
      tenantId,
      userId: memberId,
      aadObjectId,
      conversationType: 'personal',
      updatedAt: new Date(),
      reference: {
        channelId,
        serviceUrl,
        bot: { id: this.deps.botId, name: '' },
        user: { id: memberId, name: '', aadObjectId },
        conversation: { id: conversationId, isGroup: false, conversationType: 'personal', tenantId, name: '' },
      },
    };
  }
}
