// `azd up` provisions this: one resource group with the function app, its storage and
// monitoring, and the Azure Bot, all signed in with one user-assigned managed identity.
// No secret is created, stored or output. infra/main.json is this file compiled
// (`npm run infra:check` shows they agree).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region of every resource except the bot (the bot is global). It must offer the Flex Consumption plan.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person (or service principal) running azd; gets data access to the storage account for local runs and inspection. Empty: none.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('What principalId is.')
param principalType string = 'User'

@minValue(1)
@maxValue(1000)
@description('Flex Consumption: the most instances the app scales out to.')
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
@description('Flex Consumption: memory of each instance, in MB.')
param instanceMemoryMB int = 2048

@description('NOTIFY_SCHEDULE: when the timer notification runs (6-field NCRONTAB, in UTC unless NOTIFY_SCHEDULE_TIME_ZONE is set). The timer sends nothing while notifyTimerMessage is empty.')
param notifySchedule string = '0 0 9 * * 1-5'

@description('NOTIFY_TIMER_MESSAGE: the text the timer sends; empty keeps the timer idle.')
param notifyTimerMessage string = ''

@description('NOTIFY_SCHEDULE_TIME_ZONE: IANA time zone the schedule is read in (Flex Consumption has no WEBSITE_TIME_ZONE); empty for UTC.')
param notifyScheduleTimeZone string = ''

@description('Optional: the app id of an existing Entra app registration for the bot, to keep a bot you already have (its Teams app id and installs), or to serve other tenants with an existing multi-tenant registration. Empty: the bot signs in with the managed identity.')
param existingBotAppId string = ''

@allowed(['SingleTenant', 'MultiTenant'])
@description('With existingBotAppId: that registration\'s type. SingleTenant creates an Azure Bot for it here; MultiTenant creates none (Azure no longer creates multi-tenant bots): keep your Azure Bot and point its messaging endpoint at this app.')
param existingBotAppType string = 'SingleTenant'

@description('With existingBotAppId: the Key Vault secret URI of that registration\'s client secret (https://<vault>.vault.azure.net/secrets/<name>). Only the URI reaches the app settings, as a Key Vault reference; the identity needs the Key Vault Secrets User role on the vault.')
param existingBotSecretUri string = ''

var tags = { 'azd-env-name': environmentName }

resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'resources'
  scope: resourceGroup
  params: {
    environmentName: environmentName
    location: location
    tags: tags
    principalId: principalId
    principalType: principalType
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    notifySchedule: notifySchedule
    notifyTimerMessage: notifyTimerMessage
    notifyScheduleTimeZone: notifyScheduleTimeZone
    existingBotAppId: existingBotAppId
    existingBotAppType: existingBotAppType
    existingBotSecretUri: existingBotSecretUri
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output FUNCTION_APP_URL string = resources.outputs.functionAppUrl
output BOT_RESOURCE_NAME string = resources.outputs.botName
output AZURE_IDENTITY_PRINCIPAL_ID string = resources.outputs.identityPrincipalId
// Named as the app setting, so `npm run package` (run by the postprovision hook) reads it from the azd environment.
output MicrosoftAppId string = resources.outputs.botAppId
