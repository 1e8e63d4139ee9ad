// Azure OpenAI (optional, main.bicep's deployOpenAi): an account with local (key) authentication
// disabled, so the only way in is an Entra token of an identity with Cognitive Services OpenAI
// User, and one chat model deployment. The app reads AZURE_OPENAI_ENDPOINT and
// AZURE_OPENAI_DEPLOYMENT; it never gets a key.

@description('Account name.')
param name string

param location string = resourceGroup().location
param tags object = {}

@description('Custom subdomain: the endpoint is https://<customSubDomainName>.openai.azure.com/. Required for Entra authentication.')
param customSubDomainName string = name

@description('Name of the chat deployment (AZURE_OPENAI_DEPLOYMENT).')
param deploymentName string = 'chat'

@description('Model of the chat deployment; it must support tool calls.')
param modelName string = 'gpt-4o-mini'

@description('Model version available in the chosen region.')
param modelVersion string = '2024-07-18'

@description('Deployment type.')
@allowed([
  'Standard'
  'GlobalStandard'
  'DataZoneStandard'
])
param deploymentSkuName string = 'GlobalStandard'

@description('Capacity in thousands of tokens per minute.')
@minValue(1)
param capacity int = 10

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: customSubDomainName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource chatDeployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: deploymentName
  sku: {
    name: deploymentSkuName
    capacity: capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: modelName
      version: modelVersion
    }
    versionUpgradeOption: 'OnceNewDefaultVersionAvailable'
  }
}

output name string = account.name

@description('https://<subdomain>.openai.azure.com/: AZURE_OPENAI_ENDPOINT.')
output endpoint string = account.properties.endpoint

@description('AZURE_OPENAI_DEPLOYMENT.')
output deploymentName string = chatDeployment.name
