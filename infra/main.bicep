// CodexContinue Functions in Azure: a Flex Consumption Function App that reaches every service with
// one user-assigned managed identity. No key, no secret and no connection string with a secret is
// created, read or passed anywhere: storage has shared keys disabled, Azure Managed Redis has access
// keys disabled (Microsoft Entra only), Application Insights and Azure OpenAI have local auth disabled.
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

@description('Azure Managed Redis SKU (Balanced_B0 is the smallest; see infra/README.md).')
param redisSkuName string = 'Balanced_B0'

@description('Azure Managed Redis high availability: Enabled (a replica, the SLA) or Disabled (cheaper, development only).')
@allowed([
  'Enabled'
  'Disabled'
])
param redisHighAvailability string = 'Enabled'

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

// Callers. In Azure the app never runs with AUTH_MODE none: either the app checks Microsoft Entra
// bearer tokens itself (jwt) or App Service Authentication checks them in front of it (easyauth).
// The Entra app registration is created beforehand (Microsoft Graph, see the README "Deploy to
// Azure"); these parameters only name it.

@minLength(36)
@maxLength(36)
@description('Client (application) id, a GUID, of the Entra app registration that represents this API (azd: AUTH_CLIENT_ID). Tokens are issued for it.')
param authClientId string

@description('Tenant id of that app registration; empty: the tenant of this deployment (azd: AUTH_TENANT_ID).')
param authTenantId string = tenant().tenantId

@description('App ID URI of that app registration (the audience of v1 tokens); empty: api://<authClientId> (azd: AUTH_APP_ID_URI).')
param authAppIdUri string = ''

@description('AUTH_MODE of the app: jwt (the app checks bearer tokens) or easyauth (App Service Authentication in front; turns enableAppServiceAuth on). Never none in Azure.')
@allowed([
  'jwt'
  'easyauth'
])
param authMode string = 'jwt'

@description('Put App Service Authentication (authsettingsV2, token validation only, 401 for unauthenticated callers) in front of the app as well; always on with authMode easyauth (azd: ENABLE_APP_SERVICE_AUTH).')
param enableAppServiceAuth bool = false

@description('authLevel of the HTTP functions (HTTP_AUTH_LEVEL): anonymous (the token is the credential) or function (a function key as well).')
@allowed([
  'anonymous'
  'function'
])
param httpAuthLevel string = 'anonymous'

@description('Origins (https://chat.example.com) whose browser pages may call the API: the platform CORS list of the Function App (siteConfig.cors).')
param corsAllowedOrigins array = []

@description('PLUGIN_POLICY of the app, JSON: per plugin, the channels it may run on and the roles a caller needs; empty: the defaults of the app.')
param pluginPolicy string = ''

// The deployer. azd passes the signed-in account's object id (AZURE_PRINCIPAL_ID) so that whoever
// runs azd up can run the app from their machine against the deployed storage, Redis and Azure
// OpenAI with their own Entra sign-in: no key exists to hand out.

@description('Object id of the deployer (azd: AZURE_PRINCIPAL_ID, the signed-in account), who gets the app\'s data roles on storage and Azure OpenAI and a Redis access policy assignment; empty: nobody but the app\'s identity.')
param principalId string = ''

@description('What principalId is: User (azd up from a workstation) or ServicePrincipal (a pipeline signed in as one; azd: AZURE_PRINCIPAL_TYPE).')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// azd passes an unset environment variable as an empty string: fall back to the defaults then too.
var authTenant = empty(authTenantId) ? tenant().tenantId : authTenantId
var authAudienceUri = empty(authAppIdUri) ? 'api://${authClientId}' : authAppIdUri

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
    highAvailability: redisHighAvailability
    principalId: identity.outputs.principalId
    deployerPrincipalId: principalId
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
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
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
    redisPort: redis.outputs.port
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
    authMode: authMode
    authClientId: authClientId
    authTenantId: authTenant
    authAppIdUri: authAudienceUri
    enableAppServiceAuth: enableAppServiceAuth
    httpAuthLevel: httpAuthLevel
    corsAllowedOrigins: corsAllowedOrigins
    pluginPolicy: pluginPolicy
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
// How callers authenticate, for the README's token steps. Named API_* / APP_SERVICE_AUTH_* rather
// than AUTH_*: azd writes outputs into the environment that main.parameters.json reads, and a
// derived value must not come back as a parameter (a stale App ID URI after a client id change).
output API_AUTH_MODE string = functionApp.outputs.authMode
output API_APP_ID_URI string = authAudienceUri
output API_JWT_ISSUERS string = functionApp.outputs.jwtIssuers
output API_JWT_AUDIENCES string = functionApp.outputs.jwtAudiences
output APP_SERVICE_AUTH_ENABLED bool = functionApp.outputs.appServiceAuthEnabled
