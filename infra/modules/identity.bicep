// The one identity of the app: the Function App runs as it, and every data-plane permission
// (storage, Application Insights, Redis, Azure OpenAI) is granted to it and to nothing else.

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string = resourceGroup().location

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id, for the Function App identity block and the Flex deployment storage authentication.')
output id string = identity.id

output name string = identity.name

@description('Client id: AZURE_CLIENT_ID, AzureWebJobsStorage__clientId, the App Insights authentication string.')
output clientId string = identity.properties.clientId

@description('Object (principal) id: role assignments, the Redis access policy assignment, REDIS_USERNAME.')
output principalId string = identity.properties.principalId
