// The Function App on a Flex Consumption plan. It runs as the user-assigned identity, pulls its
// deployment package from a blob container with that identity, and gets app settings that name
// endpoints and resources only: no key, no connection string with a secret. The Node.js runtime
// (name and version) is set by functionAppConfig.runtime, not by FUNCTIONS_WORKER_RUNTIME, and
// FUNCTIONS_EXTENSION_VERSION is not used on Flex Consumption.

@description('Function App name (also <name>.azurewebsites.net).')
param name string

@description('Flex Consumption plan name.')
param planName string

param location string = resourceGroup().location
param tags object = {}

@description('azd service name (azure.yaml services.<name>); azd finds the app by this tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Object (principal) id of the user-assigned identity: the Redis user name.')
param identityPrincipalId string

param storageAccountName string

@description('Blob container of the deployment package, in the storage account.')
param deploymentContainerName string

param applicationInsightsName string

@description('Redis host name (<name>.redis.cache.windows.net).')
param redisHostName string

@description('Redis TLS port.')
param redisPort int = 6380

param auditTableName string
param runsTableName string
param pluginRunsQueueName string
param pluginResultsContainerName string

@description('Log level of the app.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('Whether Azure OpenAI is deployed: the LLM settings are set only then.')
param deployOpenAi bool = false

@description('Azure OpenAI endpoint (when deployed).')
param openAiEndpoint string = ''

@description('Azure OpenAI chat deployment name (when deployed).')
param openAiDeploymentName string = ''

@description('Memory of one instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Every app setting. Names the app reads must be keys of environmentSchema in
// src/config/config.ts; tests/unit/infra checks it.
var appSettings = {
  // The Functions host's own storage, identity-based.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Telemetry: the connection string holds the instrumentation key and endpoints only (not a
  // secret once local auth is disabled); the identity authenticates.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // The app (src/config/config.ts).
  AZURE_CLIENT_ID: identityClientId
  STORAGE_ACCOUNT_NAME: storage.name
  AUDIT_TABLE_NAME: auditTableName
  RUNS_TABLE_NAME: runsTableName
  PLUGIN_RUNS_QUEUE: pluginRunsQueueName
  PLUGIN_RESULTS_CONTAINER: pluginResultsContainerName
  REDIS_HOST: redisHostName
  REDIS_PORT: string(redisPort)
  REDIS_USERNAME: identityPrincipalId
  LOG_LEVEL: logLevel
}

var openAiAppSettings = deployOpenAi ? {
  AZURE_OPENAI_ENDPOINT: openAiEndpoint
  AZURE_OPENAI_DEPLOYMENT: openAiDeploymentName
} : {}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }

  resource configAppSettings 'config' = {
    name: 'appsettings'
    properties: union(appSettings, openAiAppSettings)
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName

@description('Base URL of the HTTP API (route prefix api, host.json).')
output apiUrl string = 'https://${functionApp.properties.defaultHostName}/api'
