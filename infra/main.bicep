// CodexContinue Functions in Azure: a Flex Consumption Function App that reaches every service with
// one user-assigned managed identity. No key, no secret and no connection string with a secret is
// created, read or passed anywhere: storage has shared keys disabled, Redis has access keys
// disabled (Microsoft Entra only), Application Insights and Azure OpenAI have local auth disabled.
//
// Subscription scope, as azd expects: the resource group is created here (rg-<environmentName>).
//   azd up                                  (infra/main.parameters.json supplies the values)
//   az deployment sub create --location <region> --template-file infra/main.bicep \
//     --parameters environmentName=<name> location=<region>

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd: AZURE_ENV_NAME); resource names are derived from it.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string

@description('Resource group name; rg-<environmentName> when empty.')
param resourceGroupName string = ''

@description('Memory of one Function App instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the Function App scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Log level of the app (LOG_LEVEL).')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('Azure Cache for Redis tier.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param redisSkuName string = 'Basic'

@description('Azure Cache for Redis size (0-6 for Basic/Standard, 1-5 for Premium).')
@minValue(0)
@maxValue(6)
param redisCapacity int = 0

@description('Deploy Azure OpenAI with a chat model for the chat endpoint; without it free-text chat answers llm_unavailable (/run still works).')
param deployOpenAi bool = false

@description('Region of the Azure OpenAI account (the model must be offered there).')
param openAiLocation string = location

@description('Chat model (must support tool calls).')
param openAiModelName string = 'gpt-4o-mini'

@description('Chat model version.')
param openAiModelVersion string = '2024-07-18'

@description('Name of the chat deployment (AZURE_OPENAI_DEPLOYMENT).')
param openAiDeploymentName string = 'chat'

@description('Deployment type of the chat model.')
@allowed([
  'Standard'
  'GlobalStandard'
  'DataZoneStandard'
])
param openAiDeploymentSkuName string = 'GlobalStandard'

@description('Capacity of the chat deployment, in thousands of tokens per minute.')
@minValue(1)
param openAiCapacity int = 10

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// Names the app is configured with; the storage module creates them, the Function App is told them.
var deploymentContainerName = 'app-package-${resourceToken}'
var pluginResultsContainerName = 'plugin-results'
var pluginRunsQueueName = 'plugin-runs'
var auditTableName = 'auditlog'
var runsTableName = 'pluginruns'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    resultsContainerName: pluginResultsContainerName
    runsQueueName: pluginRunsQueueName
    auditTableName: auditTableName
    runsTableName: runsTableName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  scope: rg
  params: {
    name: 'redis-${resourceToken}'
    location: location
    tags: tags
    skuName: redisSkuName
    capacity: redisCapacity
    principalId: identity.outputs.principalId
    principalName: identity.outputs.name
  }
}

module openai 'modules/openai.bicep' = if (deployOpenAi) {
  name: 'openai'
  scope: rg
  params: {
    name: 'oai-${resourceToken}'
    location: openAiLocation
    tags: tags
    deploymentName: openAiDeploymentName
    modelName: openAiModelName
    modelVersion: openAiModelVersion
    deploymentSkuName: openAiDeploymentSkuName
    capacity: openAiCapacity
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    deployOpenAi: deployOpenAi
    openAiAccountName: deployOpenAi ? openai.outputs.name : ''
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  // The host reads its storage and pulls its package with the identity from the first start.
  dependsOn: [
    roles
  ]
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    redisHostName: redis.outputs.hostName
    redisPort: redis.outputs.sslPort
    auditTableName: auditTableName
    runsTableName: runsTableName
    pluginRunsQueueName: pluginRunsQueueName
    pluginResultsContainerName: pluginResultsContainerName
    logLevel: logLevel
    deployOpenAi: deployOpenAi
    openAiEndpoint: deployOpenAi ? openai.outputs.endpoint : ''
    openAiDeploymentName: deployOpenAi ? openai.outputs.deploymentName : ''
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
}

// azd stores these in .azure/<env>/.env. None of them is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.apiUrl
output API_BASE_URL string = functionApp.outputs.apiUrl
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output REDIS_HOST_NAME string = redis.outputs.hostName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
// Not named AZURE_CLIENT_ID: azd exports its outputs to hooks, where that name would redirect Azure SDK credentials.
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_MANAGED_IDENTITY_NAME string = identity.outputs.name
output AZURE_OPENAI_ENDPOINT string = deployOpenAi ? openai.outputs.endpoint : ''
output AZURE_OPENAI_DEPLOYMENT string = deployOpenAi ? openai.outputs.deploymentName : ''
