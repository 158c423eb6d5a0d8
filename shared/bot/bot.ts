// bot/: the bot's turn logic, the CloudAdapter and the messaging endpoint (capture).
// May import storage/ and the root utilities (settings, logger); never delivery/ or notifications/.
import {
  ActivityHandler,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ChannelAccount,
} from 'botbuilder';
import {
  subscriptionConversationId,
  toStoredConversation,
  type ConversationStore,
  type StoredConversation,
} from '../storage/conversationStore';
import type { Logger } from '../logger';

export const welcomeText =
  'Hi! This bot sends you notifications in this conversation. You are subscribed; nothing else to do.';
export const subscribedText =
  'You will receive notifications in this conversation. ' +
  'Help: whoever runs this bot sends them with GET or POST /api/notify on the function app.';

export const cardActionReceivedText = 'Thanks, your response was received.';

/**
 * Keeps the conversation store in step with where the bot is installed:
 * saves the reference when the bot arrives or is written to, forgets it when
 * the bot is removed.
 */
export class NotificationBot extends ActivityHandler {
  constructor(
    private readonly store: ConversationStore,
    private readonly logger: Logger,
  ) {
    super();

    this.onMembersAdded(async (context, next) => {
      if (includesBot(context, context.activity.membersAdded)) await this.subscribe(context);
      await next();
    });

    this.onMembersRemoved(async (context, next) => {
      if (includesBot(context, context.activity.membersRemoved)) await this.unsubscribe(context);
      await next();
    });

    // Teams: personal-scope installs and uninstalls. `add-upgrade` keeps the
    // reference fresh; only a real `remove` forgets it.
    this.onInstallationUpdate(async (context, next) => {
      const action = context.activity.action;
      if (action === 'add' || action === 'add-upgrade') await this.subscribe(context);
      if (action === 'remove') await this.unsubscribe(context);
      await next();
    });

    this.onMessage(async (context, next) => {
      // Saved on every message: serviceUrl may have changed since the install.
      await this.save(context);
      await context.sendActivity(subscribedText);
      await next();
    });
  }

  /**
   * A notification card may carry Action.Execute buttons (e.g. "Acknowledge");
   * Teams shows an error unless the invoke gets an answer.
   */
  protected override async onAdaptiveCardInvoke(
    context: TurnContext,
    invokeValue: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    this.logger.log(`Card action "${invokeValue.action.verb}" in conversation ${context.activity.conversation.id}`);
    // The answer replaces the card the user clicked on.
    return {
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: cardActionReceivedText, wrap: true }] },
    };
  }

  private async subscribe(context: TurnContext): Promise<void> {
    const conversation = this.checkedReference(context);
    if (conversation === undefined) return;
    // Teams announces a personal install twice at once (installationUpdate and
    // conversationUpdate); the atomic insert lets exactly one of them welcome.
    if (await this.store.insert(conversation)) {
      await context.sendActivity(welcomeText);
    } else {
      await this.store.upsert(conversation);
    }
  }

  private async save(context: TurnContext): Promise<void> {
    const conversation = this.checkedReference(context);
    if (conversation !== undefined) await this.store.upsert(conversation);
  }

  /** The reference to store, or undefined (logged) when it could not be used for a proactive send. */
  private checkedReference(context: TurnContext): StoredConversation | undefined {
    const check = toStoredConversation(TurnContext.getConversationReference(context.activity));
    if (check.ok) return check.conversation;
    this.logger.warn(`Conversation reference not stored: ${check.reason} (activity ${context.activity.type})`);
    return undefined;
  }

  private async unsubscribe(context: TurnContext): Promise<void> {
    const { channelId, conversation } = context.activity;
    if (!channelId || !conversation?.id) return;
    const conversationId = subscriptionConversationId(conversation);
    // The tenant as toStoredConversation stored it: part of the table key, so the delete is a point operation.
    const deleted = await this.store.delete({ channelId, conversationId, tenantId: conversation.tenantId ?? '' });
    this.logger.log(`Bot removed from conversation ${conversationId} (${channelId}); reference ${deleted ? 'deleted' : 'was not stored'}`);
  }
}

function includesBot(context: TurnContext, members: ChannelAccount[] | undefined): boolean {
  const botId = context.activity.recipient?.id;
  return botId !== undefined && (members ?? []).some((member) => member.id === botId);
}
