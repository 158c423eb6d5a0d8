import type { DefaultAzureCredential } from '@azure/identity';
import { ManagedIdentityCredential } from '@azure/identity';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import { ManagedIdentityServiceClientCredentialsFactory, type IJwtTokenProviderFactory, type ServiceClientCredentialsFactory } from 'botframework-connector';
import type { Settings } from '../settings';

/**
 * How the bot signs its requests to the channel, from MicrosoftAppType.
 *
 * For UserAssignedMSI, botbuilder's own factory asks DefaultAzureCredential
 * for the token (with the client id as `managedIdentityClientId`): a chain
 * that tries AZURE_CLIENT_ID/AZURE_CLIENT_SECRET in the environment first and,
 * when the managed identity is refused, the Azure CLI, Azure PowerShell and
 * azd sign-ins after it. A bot configured for its managed identity could then
 * send as whoever is signed in on the machine, and a refused identity shows up
 * as six unrelated messages. So here the token comes from the managed identity
 * only: ManagedIdentityCredential with the client id MicrosoftAppId names (in
 * a function app, App Service's IDENTITY_ENDPOINT with IDENTITY_HEADER, asked
 * for the resource https://api.botframework.com).
 */
export function botCredentialsFactory(settings: Settings): ServiceClientCredentialsFactory {
  if (settings.microsoftAppType === 'UserAssignedMSI') {
    return new ManagedIdentityServiceClientCredentialsFactory(settings.microsoftAppId, managedIdentityOnly);
  }
  return new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: settings.microsoftAppId,
    MicrosoftAppPassword: settings.microsoftAppPassword,
    MicrosoftAppType: settings.microsoftAppType,
    MicrosoftAppTenantId: settings.microsoftAppTenantId,
  });
}

/** botbuilder types the provider as DefaultAzureCredential but only calls `getToken(scope)` on it, which every TokenCredential has. */
const managedIdentityOnly: IJwtTokenProviderFactory = {
  createAzureServiceTokenProvider: (clientId: string) => new ManagedIdentityCredential({ clientId }) as unknown as DefaultAzureCredential,
};
