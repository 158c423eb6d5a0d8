/** Activities shaped like what the Bot Framework Emulator and Microsoft Teams post to /api/messages. */

export function emulatorConversationUpdate(serviceUrl: string, conversationId = 'emulator-conversation-1') {
  return {
    type: 'conversationUpdate',
    id: 'activity-1',
    channelId: 'emulator',
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: 'user-1', name: 'User', role: 'user' },
    recipient: { id: 'bot-1', name: 'Bot', role: 'bot' },
    conversation: { id: conversationId },
    membersAdded: [
      { id: 'bot-1', name: 'Bot' },
      { id: 'user-1', name: 'User' },
    ],
  };
}

export function emulatorMessage(serviceUrl: string, conversationId: string, text: string) {
  return {
    type: 'message',
    id: `message-${Date.now()}`,
    text,
    channelId: 'emulator',
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: 'user-2', name: 'Other user', role: 'user' },
    recipient: { id: 'bot-1', name: 'Bot', role: 'bot' },
    conversation: { id: conversationId },
  };
}

export interface TeamsConversation {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly conversationType: 'personal' | 'groupChat' | 'channel';
  readonly userAadObjectId: string;
}

export const teamsPersonalChat: TeamsConversation = {
  conversationId: 'a:1Xy9_personal-chat-id',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  conversationType: 'personal',
  userAadObjectId: '6b1d4f2e-0000-4000-8000-00000000a11c',
};

export const teamsChannel: TeamsConversation = {
  conversationId: '19:abc@thread.tacv2',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  conversationType: 'channel',
  userAadObjectId: '6b1d4f2e-0000-4000-8000-00000000b0b0',
};

const teamsBot = { id: '28:00000000-0000-0000-0000-00000000b075', name: 'Notifier' };

function teamsActivity(serviceUrl: string, conversation: TeamsConversation) {
  return {
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    id: `f:${Date.now()}`,
    from: { id: '29:1user-id', name: 'Ada', aadObjectId: conversation.userAadObjectId },
    recipient: teamsBot,
    conversation: {
      id: conversation.conversationId,
      conversationType: conversation.conversationType,
      tenantId: conversation.tenantId,
      isGroup: conversation.conversationType !== 'personal',
    },
    channelData: { tenant: { id: conversation.tenantId } },
  };
}

export function teamsInstallationUpdate(serviceUrl: string, conversation: TeamsConversation, action: 'add' | 'remove') {
  return { ...teamsActivity(serviceUrl, conversation), type: 'installationUpdate', action };
}

export function teamsConversationUpdate(serviceUrl: string, conversation: TeamsConversation, change: 'added' | 'removed') {
  const members = [{ id: teamsBot.id }];
  return {
    ...teamsActivity(serviceUrl, conversation),
    type: 'conversationUpdate',
    ...(change === 'added' ? { membersAdded: members } : { membersRemoved: members }),
  };
}

export function teamsMessage(serviceUrl: string, conversation: TeamsConversation, text = 'hello') {
  return { ...teamsActivity(serviceUrl, conversation), type: 'message', text };
}

export function teamsCardAction(serviceUrl: string, conversation: TeamsConversation, verb = 'acknowledge') {
  return {
    ...teamsActivity(serviceUrl, conversation),
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb, data: {} }, trigger: 'manual' },
  };
}
