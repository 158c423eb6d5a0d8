// bot/: the bot's turn logic, the CloudAdapter and the messaging endpoint (capture).
// May import storage/, engagement/ and the root utilities (settings, logger); never delivery/ or notifications/.
import {
  ActivityHandler,
  TurnContext,
  type Activity,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ChannelAccount,
} from 'botbuilder';
import {
  subscriptionConversationId,
  toStoredConversation,
  type ConversationStore,
  type StoredConversation,
  type TeamOfActivity,
} from '../storage/conversationStore';
import { renameStoredTeam } from '../storage/storedTeams';
import type { Logger } from '../logger';
import { isPersonalConversation, type OptOutStore, type Person } from '../engagement/optOutStore';
import type { AcknowledgementStore } from '../engagement/acknowledgementStore';
import type { AcknowledgeTarget } from '../engagement/acknowledgeTarget';
import type { ReadReceiptStore } from '../engagement/readReceiptStore';
import {
  acknowledgedCard,
  acknowledgedNotificationId,
  acknowledgedText,
  adaptiveCardType,
  localOffsetMinutes,
} from '../engagement/acknowledgementCard';
import { TableUnavailableError } from '../storage/tableClient';
import {
  alreadyStartedText,
  alreadyStoppedText,
  cannotStopText,
  groupCannotStopText,
  help,
  notAcknowledgeableText,
  recalledAcknowledgementText,
  startedText,
  stoppedText,
  tryAgainText,
  welcomeText,
  type ChatScope,
} from './botTexts';

export interface NotificationBotOptions {
  /** Where "stop" and "start" are kept; absent when the organisation does not allow opt-out (NOTIFY_ALLOW_OPT_OUT=false). */
  readonly optOuts?: OptOutStore;
  /** Where acknowledge presses are kept; absent: a press is answered, not recorded. */
  readonly acknowledgements?: AcknowledgementStore;
  /**
   * Whether a press for the notification may be recorded, and the card it was sent with (one read
   * of its status row); absent: every press is taken as open, without a card of its own.
   */
  readonly acknowledgeTarget?: (notificationId: string) => Promise<AcknowledgeTarget>;
  /** The time of day (tests fix it); a press is recorded at the time the bot takes it. */
  readonly now?: () => Date;
  /** Where read receipts mark deliveries read; absent: receipts are ignored. */
  readonly readReceipts?: ReadReceiptStore;
}

/** The event Teams sends in a personal chat when the person reads the bot's messages (RSC ChatMessageReadReceipt.Read.Chat). */
export const readReceiptEventName = 'application/vnd.microsoft.readReceipt';

export const cardActionReceivedText = 'Thanks, your response was received.';

/**
 * Keeps the conversation store in step with where the bot is installed:
 * saves the reference when the bot arrives or is written to, forgets it when
 * the bot is removed.
 */
export class NotificationBot extends ActivityHandler {
  private readonly optOuts: OptOutStore | undefined;
  private readonly acknowledgements: AcknowledgementStore | undefined;
  private readonly acknowledgeTarget: (notificationId: string) => Promise<AcknowledgeTarget>;
  private readonly now: () => Date;

  constructor(
    private readonly store: ConversationStore,
    private readonly logger: Logger,
    options: NotificationBotOptions = {},
  ) {
    super();
    this.optOuts = options.optOuts;
    this.acknowledgements = options.acknowledgements;
    this.acknowledgeTarget = options.acknowledgeTarget ?? (async () => ({ kind: 'open' }));
    this.now = options.now ?? (() => new Date());
    const readReceipts = options.readReceipts;

    this.onEvent(async (context, next) => {
      if (context.activity.name === readReceiptEventName && readReceipts !== undefined) await this.markRead(context, readReceipts);
      await next();
    });

    // Teams: a renamed team is announced once, in its General channel.
    this.onConversationUpdate(async (context, next) => {
      if (eventTypeOf(context.activity) === 'teamRenamed') await this.renameTeam(context);
      await next();
    });

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
      await this.answer(context);
      await next();
    });
  }

  /** "stop" and "start" change the person's opt-out; anything else gets the help. */
  private async answer(context: TurnContext): Promise<void> {
    const command = commandOf(context.activity);
    const scope = scopeOf(context.activity);
    const optOuts = this.optOuts;
    if (optOuts === undefined) {
      await context.sendActivity(command === 'stop' ? cannotStopText : help(scope, { optOutAllowed: false }, false).text);
    } else if (command !== undefined && scope === 'group') {
      await context.sendActivity(groupCannotStopText);
    } else {
      try {
        await context.sendActivity(await this.optOutAnswer(optOuts, command, scope, personOf(context.activity)));
      } catch (error) {
        if (!(error instanceof TableUnavailableError)) throw error;
        this.logger.error(`Opt-out: ${error.message}`);
        await context.sendActivity(tryAgainText);
      }
    }
  }

  /** Carries out "stop" or "start" and says what changed, or gives the help (with the button that fits). */
  private async optOutAnswer(optOuts: OptOutStore, command: 'stop' | 'start' | undefined, scope: ChatScope, person: Person): Promise<Partial<Activity> | string> {
    const tenant = person.tenantId || '-';
    switch (command) {
      case 'stop': {
        const changed = await optOuts.optOut(person);
        if (changed) this.logger.log(`Opt-out: a person of tenant "${tenant}" turned notifications off`);
        return changed ? stoppedText : alreadyStoppedText;
      }
      case 'start': {
        const changed = await optOuts.optIn(person);
        if (changed) this.logger.log(`Opt-out: a person of tenant "${tenant}" turned notifications back on`);
        return changed ? startedText : alreadyStartedText;
      }
      case undefined: {
        const optedOut = scope === 'personal' && (await optOuts.isOptedOut(person));
        const answer = help(scope, { optOutAllowed: true }, optedOut);
        return 'card' in answer ? { attachments: [answer.card] } : answer.text;
      }
    }
  }

  /**
   * A notification's acknowledge button (Action.Execute): the first press is recorded, and the
   * person's card becomes "Acknowledged at 09:14" (the answer replaces the card for them only). A
   * second press changes nothing and shows the same time. A press naming a notification that is
   * unknown, did not ask or was recalled records nothing and is answered with a plain card saying so. Teams shows an error unless every invoke
   * gets an answer, so any other action is thanked.
   */
  protected override async onAdaptiveCardInvoke(
    context: TurnContext,
    invokeValue: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    const notificationId = acknowledgedNotificationId(invokeValue.action?.verb, invokeValue.action?.data);
    const acknowledgements = this.acknowledgements;
    if (notificationId === undefined || acknowledgements === undefined) {
      this.logger.log(`Card action "${invokeValue.action?.verb}" in conversation ${context.activity.conversation.id}`);
      return cardAnswer(plainCard(cardActionReceivedText));
    }
    try {
      return await this.acknowledge(context, acknowledgements, notificationId);
    } catch (error) {
      if (!(error instanceof TableUnavailableError)) throw error;
      this.logger.error(`Acknowledgement of notification ${notificationId}: ${error.message}`);
      return { statusCode: 503, type: 'application/vnd.microsoft.error', value: { code: 'ServiceUnavailable', message: tryAgainText } };
    }
  }

  private async acknowledge(context: TurnContext, acknowledgements: AcknowledgementStore, notificationId: string): Promise<AdaptiveCardInvokeResponse> {
    const target = await this.acknowledgeTarget(notificationId);
    if (target.kind !== 'open') {
      this.logger.warn(`Acknowledge press for notification ${notificationId} in conversation ${context.activity.conversation.id}: not recorded (${target.kind})`);
      return cardAnswer(plainCard(target.kind === 'recalled' ? recalledAcknowledgementText : notAcknowledgeableText));
    }
    const activity = context.activity as Activity & { readonly rawLocalTimestamp?: string };
    const { first, record } = await acknowledgements.acknowledge({
      notificationId,
      person: personOf(activity),
      conversation: { channelId: activity.channelId, conversationId: activity.conversation.id },
      at: this.now(),
      offsetMinutes: localOffsetMinutes(activity),
    });
    if (first) this.logger.log(`Notification ${notificationId}: acknowledged by a person of tenant "${activity.conversation.tenantId ?? '-'}"`);
    return cardAnswer(acknowledgedCard(target.ownCard, acknowledgedText(record.acknowledgedAt, record.offsetMinutes, this.now())));
  }

  /** Marks the deliveries of the chat up to the last message read; a malformed receipt is logged and ignored. */
  private async markRead(context: TurnContext, readReceipts: ReadReceiptStore): Promise<void> {
    const { activity } = context;
    const value: unknown = activity.value;
    const lastRead = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['lastReadMessageId'] : undefined;
    if (typeof lastRead !== 'string' || lastRead === '' || !activity.conversation?.id) {
      this.logger.warn(`Read receipt without a lastReadMessageId in conversation ${activity.conversation?.id ?? '-'}: ignored`);
      return;
    }
    const marked = await readReceipts.receipt({
      tenantId: activity.conversation.tenantId ?? '',
      conversation: { channelId: activity.channelId, conversationId: activity.conversation.id },
      lastReadMessageId: lastRead,
      at: this.now(),
    });
    if (marked > 0) this.logger.log(`Read receipt in conversation ${activity.conversation.id}: ${marked} notification(s) read`);
  }

  private async subscribe(context: TurnContext): Promise<void> {
    const conversation = this.checkedReference(context);
    if (conversation === undefined) return;
    // Teams announces a personal install twice at once (installationUpdate and
    // conversationUpdate); the atomic insert lets exactly one of them welcome.
    if (await this.store.insert(await this.keepingTeamName(conversation))) {
      await context.sendActivity(welcomeText(scopeOf(context.activity), { optOutAllowed: this.optOuts !== undefined }));
    } else {
      await this.store.upsert(await this.keepingTeamName(conversation));
    }
  }

  private async save(context: TurnContext): Promise<void> {
    const conversation = this.checkedReference(context);
    if (conversation !== undefined) await this.store.upsert(await this.keepingTeamName(conversation));
  }

  /**
   * Teams names the team in some channel events and not in messages: a
   * channel saved without a name keeps the one stored before (one read, for
   * channels only).
   */
  private async keepingTeamName(conversation: StoredConversation): Promise<StoredConversation> {
    if (conversation.teamId === undefined || conversation.teamName !== undefined) return conversation;
    const stored = await this.store.get(conversation);
    return stored?.teamName !== undefined && stored.teamId === conversation.teamId ? { ...conversation, teamName: stored.teamName } : conversation;
  }

  private async renameTeam(context: TurnContext): Promise<void> {
    const conversation = this.checkedReference(context);
    if (conversation?.teamId === undefined || conversation.teamName === undefined) return;
    await this.store.upsert(conversation);
    const others = await renameStoredTeam(this.store, { tenantId: conversation.tenantId, teamId: conversation.teamId, teamName: conversation.teamName });
    this.logger.log(`Team ${conversation.teamId} renamed; ${others + 1} stored channel reference(s) carry the new name`);
  }

  /** The reference to store, or undefined (logged) when it could not be used for a proactive send. */
  private checkedReference(context: TurnContext): StoredConversation | undefined {
    const check = toStoredConversation(TurnContext.getConversationReference(context.activity), new Date(), teamOf(context.activity));
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

/** Teams' `channelData.team` (id and, in some events, name), when the activity carries one. */
function teamOf(activity: Partial<Activity>): TeamOfActivity | undefined {
  const team: unknown = (activity.channelData as { team?: unknown } | undefined)?.team;
  if (typeof team !== 'object' || team === null) return undefined;
  const { id, name } = team as Record<string, unknown>;
  return typeof id === 'string' ? { id, ...(typeof name === 'string' ? { name } : {}) } : undefined;
}

function eventTypeOf(activity: Partial<Activity>): unknown {
  return (activity.channelData as { eventType?: unknown } | undefined)?.eventType;
}

function cardAnswer(card: Record<string, unknown>): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: adaptiveCardType, value: card };
}

function plainCard(text: string): Record<string, unknown> {
  return { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text, wrap: true }] };
}

/** A personal (1:1) chat by the same rule the store uses for a person's own conversations; everything else is a group. */
function scopeOf(activity: Partial<Activity>): ChatScope {
  return isPersonalConversation({ conversationType: activity.conversation?.conversationType ?? '' }) ? 'personal' : 'group';
}

/** Who wrote, keyed as their personal chat is stored (tenant, channel, user id, AAD object id). */
function personOf(activity: Partial<Activity>): Person {
  return {
    tenantId: activity.conversation?.tenantId ?? '',
    channelId: activity.channelId ?? '',
    userId: activity.from?.id ?? '',
    aadObjectId: activity.from?.aadObjectId ?? '',
  };
}

/**
 * "stop" or "start", typed (any case, an @mention and trailing punctuation ignored) or sent by the
 * help card's button (Teams: its text; other channels: its data's `command`).
 */
export function commandOf(activity: Partial<Activity>): 'stop' | 'start' | undefined {
  const value: unknown = activity.value;
  if (typeof value === 'object' && value !== null) {
    const command = (value as Record<string, unknown>)['command'];
    if (command === 'stop' || command === 'start') return command;
  }
  const text = (activity.text ?? '').replace(/<at>[^<]*<\/at>/gi, '').trim().replace(/[.!]+$/, '').toLowerCase();
  return text === 'stop' || text === 'start' ? text : undefined;
}

function includesBot(context: TurnContext, members: ChannelAccount[] | undefined): boolean {
  const botId = context.activity.recipient?.id;
  return botId !== undefined && (members ?? []).some((member) => member.id === botId);
}
