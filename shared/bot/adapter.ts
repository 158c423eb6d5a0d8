import {
  ActivityEventNames,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type TurnContext,
} from 'botbuilder';
import type { BotFrameworkAuthentication, ConnectorClientOptions, ServiceClientCredentialsFactory } from 'botframework-connector';
import type { Logger } from '../logger';
import { StoreUnavailableError } from '../storage/tableConversationStore';
import type { Settings } from '../settings';
import { botCredentialsFactory } from './botCredentials';
import { TokenRefusalsAs401 } from './tokenRefusals';

export interface AdapterOptions {
  /** Tests replace the credentials (Azure AD cannot be reached here). */
  readonly credentialsFactory?: ServiceClientCredentialsFactory;
  readonly connectorClientOptions?: ConnectorClientOptions;
  /** Wraps the adapter's authentication (the proactive sender's adapter reuses connector clients: ReusedConnectorClients). */
  readonly wrapAuthentication?: (authentication: BotFrameworkAuthentication) => BotFrameworkAuthentication;
}

export function createAdapter(settings: Settings, logger: Logger, options: AdapterOptions = {}): CloudAdapter {
  const credentialsFactory = options.credentialsFactory ?? botCredentialsFactory(settings);
  const authentication = new ConfigurationBotFrameworkAuthentication(
    {
      MicrosoftAppId: settings.microsoftAppId,
      MicrosoftAppTenantId: settings.microsoftAppTenantId,
      // Complete (settings fill a partial set): botbuilder would leave the keys not given empty.
      ...settings.botFramework,
    },
    credentialsFactory,
    undefined,
    undefined,
    options.connectorClientOptions,
  );
  const checked = new TokenRefusalsAs401(authentication, settings.microsoftAppId);
  const adapter = new CloudAdapter(options.wrapAuthentication?.(checked) ?? checked);
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    logger.error(`Unhandled error in bot turn (${context.activity.type}):`, error);
    // Proactive turns have nobody waiting for an apology; the caller reports the failure.
    if (context.activity.name === ActivityEventNames.ContinueConversation) throw error;
    try {
      await context.sendActivity('Sorry, something went wrong on our side. Please try again later.');
    } catch (sendError) {
      logger.error('Could not tell the user about the error:', sendError);
    }
    // A reference that could not be saved must not be answered with 200: the
    // request fails with 500, so the outage is visible and the channel may retry.
    if (error instanceof StoreUnavailableError) throw error;
  };
  return adapter;
}
