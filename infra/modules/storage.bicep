// The storage account of the app and of the Functions host. Shared keys are disabled: every client
// (the host, the Flex deployment, the app's SDK clients) authenticates with the managed identity.

@description('Storage account name: 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param name string

param location string = resourceGroup().location
param tags object = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container of plugin results too large for a table row or a queue message (PLUGIN_RESULTS_CONTAINER).')
param resultsContainerName string

@description('Queue of event-triggered plugin runs (PLUGIN_RUNS_QUEUE); its poison queue is <name>-poison.')
param runsQueueName string

@description('Table of the audit log (AUDIT_TABLE_NAME).')
param auditTableName string

@description('Table of plugin runs (RUNS_TABLE_NAME).')
param runsTableName string

var containerNames = [
  deploymentContainerName
  resultsContainerName
]

var queueNames = [
  runsQueueName
  '${runsQueueName}-poison'
]

var tableNames = [
  auditTableName
  runsTableName
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output name string = storage.name
output id string = storage.id

@description('Blob endpoint, e.g. https://<name>.blob.core.windows.net/ (with the trailing slash).')
output blobEndpoint string = storage.properties.primaryEndpoints.blob
