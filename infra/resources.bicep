// Everything in the resource group. One user-assigned identity is the function host's
// identity (to storage and Application Insights) and the bot's identity (to the Bot
// Connector), so nothing here holds a key, a password or a connection string with a key.

@description('Name of the azd environment.')
param environmentName string

@description('Region of every resource except the bot.')
param location string

@description('Tags of every resource.')
param tags object

@description('Object id of the deploying principal; empty for none.')
param principalId string

@description('What principalId is: User, ServicePrincipal or Group.')
param principalType string

@description('Flex Consumption: the most instances the app scales out to.')
param maximumInstanceCount int

@description('Flex Consumption: memory of each instance, in MB.')
param instanceMemoryMB int

@description('NOTIFY_SCHEDULE app setting.')
param notifySchedule string

@description('NOTIFY_TIMER_MESSAGE app setting.')
param notifyTimerMessage string

@description('NOTIFY_SCHEDULE_TIME_ZONE app setting.')
param notifyScheduleTimeZone string

@description('App id of an existing single-tenant app registration; empty to use the managed identity.')
param existingBotAppId string

@description('That registration\'s type: SingleTenant or MultiTenant.')
param existingBotAppType string

@description('Key Vault secret URI of that registration\'s client secret.')
param existingBotSecretUri string

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var deploymentContainerName = 'app-package'
var useExistingRegistration = !empty(existingBotAppId)
// Azure creates no new multi-tenant bots: an existing multi-tenant registration keeps its own Azure Bot.
var createBot = !useExistingRegistration || existingBotAppType == 'SingleTenant'

// Built-in role definitions (the ids are the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// The queues the queue-triggered functions listen on (shared/queued/workQueues.ts) and their
// poison queues; the app also creates them on first use.
var workQueues = [
  'notifications-plan'
  'notifications-plan-poison'
  'notifications-deliver'
  'notifications-deliver-poison'
]

// ---------------------------------------------------------------- identity

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------- storage

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption reads the deployment package from here.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' = [
  for queueName in workQueues: {
    parent: queueService
    name: queueName
  }
]

// ---------------------------------------------------------------- monitoring

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    features: { disableLocalAuth: true }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------- function app

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

var botAppSettings = useExistingRegistration
  ? [
      { name: 'MicrosoftAppType', value: existingBotAppType }
      { name: 'MicrosoftAppId', value: existingBotAppId }
      { name: 'MicrosoftAppPassword', value: '@Microsoft.KeyVault(SecretUri=${existingBotSecretUri})' }
      { name: 'MicrosoftAppTenantId', value: tenant().tenantId }
    ]
  : [
      { name: 'MicrosoftAppType', value: 'UserAssignedMSI' }
      { name: 'MicrosoftAppId', value: identity.properties.clientId }
      { name: 'MicrosoftAppTenantId', value: identity.properties.tenantId }
    ]

// Identity-based connections: the host and the app read these (shared/storageConnection.ts).
// __credential and __clientId name the user-assigned identity; without them a queue trigger
// would try a system-assigned identity the app does not have.
var storageAppSettings = [
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
]

var monitoringAppSettings = [
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identity.properties.clientId}' }
]

var notifyAppSettings = [
  { name: 'NOTIFY_SCHEDULE', value: notifySchedule }
  { name: 'NOTIFY_TIMER_MESSAGE', value: notifyTimerMessage }
  { name: 'NOTIFY_SCHEDULE_TIME_ZONE', value: notifyScheduleTimeZone }
]

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: 'func-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (MicrosoftAppPassword with existingBotAppId) resolve with the identity.
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(storageAppSettings, monitoringAppSettings, botAppSettings, notifyAppSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: '22' }
    }
  }
  dependsOn: [
    deploymentContainer
    identityBlobDataOwner
    identityQueueDataContributor
    identityTableDataContributor
    identityMetricsPublisher
  ]
}

// No publishing password either: azd deploys with an Entra ID token.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

// ---------------------------------------------------------------- role assignments

resource identityBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource identityQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource identityTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource identityMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The deploying person gets data access too, to run the app locally against this account or look inside.
resource principalBlobDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storage.id, principalId, roles.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

resource principalQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storage.id, principalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

resource principalTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storage.id, principalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

// ---------------------------------------------------------------- bot

resource bot 'Microsoft.BotService/botServices@2022-09-15' = if (createBot) {
  name: 'bot-${resourceToken}'
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: useExistingRegistration
    ? {
        displayName: 'Notifications (${environmentName})'
        endpoint: 'https://${functionApp.properties.defaultHostName}/api/messages'
        msaAppType: 'SingleTenant'
        msaAppId: existingBotAppId
        msaAppTenantId: tenant().tenantId
      }
    : {
        displayName: 'Notifications (${environmentName})'
        endpoint: 'https://${functionApp.properties.defaultHostName}/api/messages'
        msaAppType: 'UserAssignedMSI'
        msaAppId: identity.properties.clientId
        msaAppTenantId: identity.properties.tenantId
        msaAppMSIResourceId: identity.id
      }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = if (createBot) {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output botName string = createBot ? bot.name : ''
output botAppId string = useExistingRegistration ? existingBotAppId : identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
