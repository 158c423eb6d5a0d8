import type { Directory } from '../graph/directory';
import type { ConversationStore, StoredConversation } from '../storage/conversationStore';
import type { PersonIndex } from './personIndex';
import type { PersonRecipient, UnreachedRecipient } from './plannedRecipient';

/** What Teams answered to `POST /v3/conversations` for one person (helper D's connector call, through the tenant's gate). */
export type CreatedConversation =
  | { readonly outcome: 'created'; readonly conversationId: string }
  | { readonly outcome: 'blocked' | 'notInstalled' | 'notFound'; readonly message: string };

export interface PersonalConversationCreator {
  createPersonalConversation(input: { readonly serviceUrl: string; readonly tenantId: string; readonly memberId: string }): Promise<CreatedConversation>;
}

export type PersonConversation =
  | { readonly outcome: 'found'; readonly person: PersonRecipient; readonly conversation: StoredConversation }
  | { readonly outcome: 'unreached'; readonly person: PersonRecipient; readonly unreached: UnreachedRecipient };

export interface PersonConversationsDependencies {
  readonly index: PersonIndex;
  readonly creator: PersonalConversationCreator;
  readonly directory: Directory;
  /** New references are stored, so the next notification costs one request, not two. */
  readonly store: Pick<ConversationStore, 'upsert'>;
  /** NOTIFY_INSTALL_FOR_USERS: people with no chat and no team shared with the bot get the app installed through Graph. */
  readonly installForUsers: boolean;
  /** MicrosoftAppId, the bot in the references built here. */
  readonly botId: string;
  /** Where a person of a tenant the app holds no reference of is reached. */
  readonly defaultServiceUrl: string;
}

/** Teams' global service URL, for people of a tenant no stored reference gives one for. */
export const defaultTeamsServiceUrl = 'https://smba.trafficmanager.net/teams/';

/**
 * A person's personal conversation, found or made: a stored one is reused
 * (the person index); otherwise Teams creates it (`POST /v3/conversations`);
 * someone with no chat and no team shared with the bot is installed for
 * through Graph when allowed (the chat id Graph gives is used), else counted
 * `notInstalled`. Each new reference is stored and indexed.
 */
export class PersonConversations {
  constructor(private readonly deps: PersonConversationsDependencies) {}

  /** Every person of a batch, in order; installations go to Graph together (it batches them 20 at a time). */
  async resolveAll(persons: readonly PersonRecipient[], concurrency = 8): Promise<PersonConversation[]> {
    const results: PersonConversation[] = new Array(persons.length);
    const toInstall: number[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < persons.length) {
        const index = next++;
        const person = persons[index] as PersonRecipient;
        const outcome = await this.findOrCreate(person);
        if (outcome === 'notInstalled' && this.deps.installForUsers) toInstall.push(index);
        else results[index] = outcome === 'notInstalled' ? notInstalled(person) : outcome;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, persons.length) }, lane));
    if (toInstall.length > 0) await this.install(toInstall.map((index) => persons[index] as PersonRecipient), (person, result) => (results[persons.indexOf(person)] = result));
    return results;
  }

  private async findOrCreate(person: PersonRecipient): Promise<PersonConversation | 'notInstalled'> {
    const stored = await this.deps.index.get(person.tenantId, person.aadObjectId);
    if (stored !== undefined) return { outcome: 'found', person, conversation: stored };
    const serviceUrl = person.serviceUrl ?? this.deps.defaultServiceUrl;
    const created = await this.deps.creator.createPersonalConversation({ serviceUrl, tenantId: person.tenantId, memberId: person.memberId ?? person.aadObjectId });
    switch (created.outcome) {
      case 'created':
        return { outcome: 'found', person, conversation: await this.remember(person, created.conversationId, serviceUrl) };
      case 'notInstalled':
        return 'notInstalled';
      case 'blocked':
        return unreachedPerson(person, 'blocked', `${describe(person)} blocked messages from the bot: ${created.message}`);
      case 'notFound':
        return unreachedPerson(person, 'notFound', `${describe(person)} is not a user of the tenant any more: ${created.message}`);
    }
  }

  private async install(persons: readonly PersonRecipient[], settle: (person: PersonRecipient, result: PersonConversation) => void): Promise<void> {
    const [first] = persons as [PersonRecipient];
    const results = await this.deps.directory.installForUsers(first.tenantId, persons.map((person) => person.aadObjectId));
    const byUser = new Map(results.map((result) => [result.userId.toLowerCase(), result]));
    for (const person of persons) {
      const result = byUser.get(person.aadObjectId.toLowerCase());
      if (result?.outcome === 'installed') {
        settle(person, { outcome: 'found', person, conversation: await this.remember(person, result.chatId, person.serviceUrl ?? this.deps.defaultServiceUrl) });
      } else if (result?.outcome === 'notFound') {
        settle(person, unreachedPerson(person, 'notFound', `${describe(person)} is not a user of the tenant any more.`));
      } else {
        settle(person, unreachedPerson(person, 'notInstalled', `The app could not be installed for ${describe(person)}: ${result?.outcome === 'failed' ? result.error : 'Graph did not answer for them'}.`));
      }
    }
  }

  private async remember(person: PersonRecipient, conversationId: string, serviceUrl: string): Promise<StoredConversation> {
    const userId = person.memberId ?? person.aadObjectId;
    const conversation: StoredConversation = {
      channelId: 'msteams',
      conversationId,
      serviceUrl,
      tenantId: person.tenantId,
      userId,
      aadObjectId: person.aadObjectId,
      conversationType: 'personal',
      updatedAt: new Date(),
      reference: {
        channelId: 'msteams',
        serviceUrl,
        bot: { id: this.deps.botId, name: '' },
        user: { id: userId, name: person.name ?? '', aadObjectId: person.aadObjectId },
        conversation: { id: conversationId, isGroup: false, conversationType: 'personal', tenantId: person.tenantId, name: '' },
      },
    };
    await this.deps.store.upsert(conversation);
    await this.deps.index.put(conversation);
    return conversation;
  }
}

function notInstalled(person: PersonRecipient): PersonConversation {
  return unreachedPerson(person, 'notInstalled', `${describe(person)} has no chat with the bot and shares no team with it, and installing the app for people is turned off.`);
}

function unreachedPerson(person: PersonRecipient, reason: UnreachedRecipient['reason'], message: string): PersonConversation {
  return { outcome: 'unreached', person, unreached: { kind: 'unreached', tenantId: person.tenantId, reason, subject: person.aadObjectId, message } };
}

function describe(person: PersonRecipient): string {
  return person.name === undefined || person.name === '' ? `User ${person.aadObjectId}` : `${person.name} (${person.aadObjectId})`;
}
