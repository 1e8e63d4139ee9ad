// The Function App on a Flex Consumption plan. It runs as the user-assigned identity, pulls its
// deployment package from a blob container with that identity, and gets app settings that name
// endpoints and resources only: no key, no connection string with a secret. The Node.js runtime
// (name and version) is set by functionAppConfig.runtime, not by FUNCTIONS_WORKER_RUNTIME, and
// FUNCTIONS_EXTENSION_VERSION is not used on Flex Consumption.
//
// Callers: AUTH_MODE is jwt or easyauth, never none (the app refuses none where the platform sets
// WEBSITE_INSTANCE_ID). The jwt settings are always set, for the tenant's v1 and v2 tokens; with
// App Service Authentication on (always with easyauth), authsettingsV2 checks the same tokens in
// front of the app and the platform sets WEBSITE_AUTH_ENABLED=True, which easyauth mode requires.

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

@description('Azure Managed Redis host name (<name>.<region>.redis.azure.net).')
param redisHostName string

@description('TLS port of the Azure Managed Redis database.')
param redisPort int = 10000

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

@description('AUTH_MODE of the app: jwt (the app checks bearer tokens) or easyauth (App Service Authentication in front). Never none.')
@allowed([
  'jwt'
  'easyauth'
])
param authMode string = 'jwt'

@description('Client (application) id of the Entra app registration of the API: the audience of v2 tokens.')
param authClientId string

@description('Tenant id of the app registration: the token issuers are those of this tenant.')
param authTenantId string

@description('App ID URI of the app registration (api://<client id>): the audience of v1 tokens.')
param authAppIdUri string

@description('App Service Authentication (authsettingsV2) in front of the app; forced on with authMode easyauth.')
param enableAppServiceAuth bool = false

@description('authLevel of the HTTP functions (HTTP_AUTH_LEVEL).')
@allowed([
  'anonymous'
  'function'
])
param httpAuthLevel string = 'anonymous'

@description('Origins allowed to call the API from a browser: the platform CORS list (siteConfig.cors).')
param corsAllowedOrigins array = []

@description('PLUGIN_POLICY (JSON); set only when not empty.')
param pluginPolicy string = ''

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Entra ID issues v1 tokens (iss https://sts.windows.net/<tenant>/, aud the App ID URI) unless the
// app registration asks for v2 (iss https://login.microsoftonline.com/<tenant>/v2.0, aud the client
// id): both are accepted.
var jwtIssuers = [
  'https://login.microsoftonline.com/${authTenantId}/v2.0'
  'https://sts.windows.net/${authTenantId}/'
]
var jwtAudiences = [
  authClientId
  authAppIdUri
]

// The delegated scope an MCP client asks Entra for (the app registration's user_impersonation,
// README "Deploy to Azure"): named in the MCP endpoint's OAuth metadata, the app's or App Service's.
var mcpScope = '${authAppIdUri}/user_impersonation'

// easyauth mode trusts x-ms-client-principal, which only App Service Authentication makes safe.
var appServiceAuthEnabled = enableAppServiceAuth || authMode == 'easyauth'

// Reachable without a token: the probes, and the console page with its files (which then signs
// the user in). An excluded path is matched exactly; a trailing /* takes in what is below it.
var appServiceAuthExcludedPaths = [
  '/api/health'
  '/api/health/live'
  '/api/console'
  '/api/console/*'
]

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
  // Callers (src/config/config.ts; functions/main.ts reads HTTP_AUTH_LEVEL).
  AUTH_MODE: authMode
  AUTH_JWT_ISSUER: join(jwtIssuers, ',')
  AUTH_JWT_AUDIENCE: join(jwtAudiences, ',')
  AUTH_JWT_SCOPES: mcpScope
  HTTP_AUTH_LEVEL: httpAuthLevel
  // Not CORS_ALLOWED_ORIGINS: on Flex Consumption that variable belongs to the platform, which
  // writes siteConfig.cors.allowedOrigins into it as a JSON array for the Functions host (see
  // infra/README.md, "CORS").
}

var openAiAppSettings = deployOpenAi ? {
  AZURE_OPENAI_ENDPOINT: openAiEndpoint
  AZURE_OPENAI_DEPLOYMENT: openAiDeploymentName
} : {}

// With App Service Authentication in front, the platform answers an unauthenticated MCP client 401
// itself: this (preview, Flex Consumption included) has it name its Protected Resource Metadata
// (RFC 9728) in that 401 and serve it at /.well-known/oauth-protected-resource, with this scope.
var appServiceAuthAppSettings = appServiceAuthEnabled ? {
  WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES: mcpScope
} : {}

// Unset rather than empty when there is none: the app's defaults apply.
var pluginPolicyAppSettings = !empty(pluginPolicy) ? {
  PLUGIN_POLICY: pluginPolicy
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
    // The Functions host answers CORS preflights itself on Flex Consumption, from this list; no
    // entry at all when the list is empty (the platform would pass an empty JSON array on).
    siteConfig: !empty(corsAllowedOrigins) ? {
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
    } : {}
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
    properties: union(appSettings, openAiAppSettings, pluginPolicyAppSettings, appServiceAuthAppSettings)
  }
}

// App Service Authentication: token validation only (no client secret, no login flow, no token
// store). A request without a valid token for this API gets 401 before it reaches a function,
// except on the excluded paths; with one, the platform passes the caller on in
// x-ms-client-principal (and the Authorization header, which jwt mode checks again).
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (appServiceAuthEnabled) {
  parent: functionApp
  name: 'authsettingsV2'
  // One write to the site's configuration at a time.
  dependsOn: [
    functionApp::configAppSettings
  ]
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: appServiceAuthExcludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: 'https://sts.windows.net/${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: jwtAudiences
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName

@description('Base URL of the HTTP API (route prefix api, host.json).')
output apiUrl string = 'https://${functionApp.properties.defaultHostName}/api'

output authMode string = authMode
@description('Accepted token issuers (AUTH_JWT_ISSUER), comma-separated.')
output jwtIssuers string = join(jwtIssuers, ',')
@description('Accepted token audiences (AUTH_JWT_AUDIENCE), comma-separated.')
output jwtAudiences string = join(jwtAudiences, ',')
output appServiceAuthEnabled bool = appServiceAuthEnabled
