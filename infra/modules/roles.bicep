// Every Azure RBAC role assignment of the deployment, each on the narrowest scope that works:
// data-plane roles on the storage account, publishing rights on the Application Insights component,
// inference on the Azure OpenAI account. The app's managed identity gets all of them; the deployer
// (main.bicep principalId, optional) gets the data roles the app uses, so that the app runs from
// their machine against the deployed storage and Azure OpenAI with their own sign-in and no key. No
// control-plane role (Owner, Contributor, ...) is granted. Redis access is not RBAC: see redis.bicep.

@description('Object (principal) id of the managed identity.')
param principalId string

@description('Object id of the deployer (azd: the signed-in user); empty: no role for anybody but the identity.')
param deployerPrincipalId string = ''

@description('What the deployer is: User (azd up from a workstation) or ServicePrincipal (a pipeline).')
@allowed([
  'User'
  'ServicePrincipal'
])
param deployerPrincipalType string = 'User'

param storageAccountName string
param applicationInsightsName string

@description('Whether the Azure OpenAI account exists (main.bicep deployOpenAi).')
param deployOpenAi bool = false

param openAiAccountName string = ''

// Built-in role definition ids (the same in every tenant).
// The Functions host's storage (AzureWebJobsStorage, blob leases), the Flex deployment package, plugin results.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// The audit log and the plugin runs tables.
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// The plugin-runs queue and its poison queue.
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
// Telemetry with Entra authentication (App Insights has local auth disabled).
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'
// Chat completions on the Azure OpenAI account.
var cognitiveServicesOpenAiUserRoleId = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

var hasDeployer = !empty(deployerPrincipalId)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = if (deployOpenAi) {
  name: openAiAccountName
}

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource cognitiveServicesOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployOpenAi) {
  name: guid(openAi.id, principalId, cognitiveServicesOpenAiUserRoleId)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesOpenAiUserRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer: the data roles the app itself uses, nothing to publish telemetry with (the app run
// locally sends none unless told to). Names are guid(scope, principal, role) as above, so a
// redeployment by the same person finds the same assignments, and a different person gets their own.

resource deployerStorageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasDeployer) {
  name: guid(storage.id, deployerPrincipalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource deployerStorageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasDeployer) {
  name: guid(storage.id, deployerPrincipalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource deployerStorageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasDeployer) {
  name: guid(storage.id, deployerPrincipalId, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource deployerCognitiveServicesOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployOpenAi && hasDeployer) {
  name: guid(openAi.id, deployerPrincipalId, cognitiveServicesOpenAiUserRoleId)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesOpenAiUserRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}
