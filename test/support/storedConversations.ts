import { strict as assert } from 'node:assert';
import { toStoredConversation, type StoredConversation } from '../../shared/storage/conversationStore';

/** A Teams conversation as the store keeps it, for tests that seed a store directly. */
export interface SeedConversation {
  readonly id: string;
  readonly tenant: string;
  /** `personal`, `groupChat` or `channel`. */
  readonly type: string;
}

export function storedTeamsConversation(
  conversation: SeedConversation,
  serviceUrl = 'https://smba.example/teams/',
): StoredConversation {
  const check = toStoredConversation({
    channelId: 'msteams',
    serviceUrl,
    bot: { id: '28:bot', name: 'Notifier' },
    user: { id: `29:${conversation.id}`, name: 'someone' },
    conversation: {
      id: conversation.id,
      tenantId: conversation.tenant,
      conversationType: conversation.type,
      isGroup: conversation.type !== 'personal',
      name: '',
    },
  });
  assert.ok(check.ok, `the test reference for ${conversation.id} is complete`);
  return check.conversation;
}
