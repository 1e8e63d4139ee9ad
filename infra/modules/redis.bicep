// Azure Cache for Redis for the session memory, reached with Microsoft Entra ID only: access keys
// are disabled, the non-TLS port is closed, and the managed identity is a Redis user through an
// access policy assignment. The app authenticates with REDIS_USERNAME = the identity's object id
// and an Entra access token as the password (REDIS_HOST, REDIS_PORT 6380, TLS).

@description('Cache name (also the first label of <name>.redis.cache.windows.net).')
param name string

param location string = resourceGroup().location
param tags object = {}

@description('Tier: Basic (no SLA, development), Standard (replicated), Premium.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string = 'Basic'

@description('Size: 0-6 for Basic and Standard (family C), 1-5 for Premium (family P).')
@minValue(0)
@maxValue(6)
param capacity int = 0

@description('Object (principal) id of the managed identity that gets data access.')
param principalId string

@description('Friendly name of that identity, shown as the Redis user alias.')
param principalName string

@description('Built-in data access policy of the identity; Data Contributor covers the commands the app runs (MULTI, RPUSH, LTRIM, EXPIRE, LRANGE, GET, SET, DEL, PING).')
@allowed([
  'Data Owner'
  'Data Contributor'
])
param accessPolicyName string = 'Data Contributor'

resource redis 'Microsoft.Cache/redis@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: skuName
      family: skuName == 'Premium' ? 'P' : 'C'
      capacity: capacity
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    disableAccessKeyAuthentication: true
    redisConfiguration: {
      'aad-enabled': 'true'
    }
  }
}

resource appIdentityAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-11-01' = {
  parent: redis
  name: 'app-identity'
  properties: {
    accessPolicyName: accessPolicyName
    objectId: principalId
    objectIdAlias: principalName
  }
}

output name string = redis.name

@description('Host name: REDIS_HOST.')
output hostName string = redis.properties.hostName

@description('TLS port (6380): REDIS_PORT.')
output sslPort int = redis.properties.sslPort
