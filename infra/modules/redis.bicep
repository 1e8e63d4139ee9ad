// Azure Managed Redis (Microsoft.Cache/redisEnterprise) for the session memory, the result cache and
// the shared rate limit, reached with Microsoft Entra ID only: access keys are disabled on the
// database, the endpoint speaks TLS only, and each identity that may connect is a Redis user through
// an access policy assignment on the database. The app authenticates with REDIS_USERNAME = the
// identity's object id and an Entra access token as the password (REDIS_HOST, REDIS_PORT 10000, TLS).
// Azure Cache for Redis (Microsoft.Cache/redis), which this replaces, is being retired and cannot be
// created by tenants that had no instance before 2026-04-01.
//
// API version 2025-07-01: the first GA version whose database offers clusteringPolicy 'NoCluster'
// (2025-04-01 has only EnterpriseCluster and OSSCluster), and in which the cluster's
// publicNetworkAccess is required on create. accessKeysAuthentication defaults to Disabled there; it
// is set anyway, so that a change of default cannot turn keys back on.

@description('Cluster name: 1-60 letters, digits and single hyphens; the host name is <name>.<region>.redis.azure.net.')
@minLength(1)
@maxLength(60)
param name string

param location string = resourceGroup().location
param tags object = {}

// Not @allowed: the service adds sizes; ARM refuses a name it does not know.
@description('Azure Managed Redis SKU: Balanced_B0 (0.5 GB, the smallest), Balanced_B1, Balanced_B3, ..., MemoryOptimized_M10, ComputeOptimized_X3, ... B0 and B1 suit development.')
param skuName string = 'Balanced_B0'

@description('Enabled: a replica of every shard (the SLA). Disabled: one copy, cheaper, for development only.')
@allowed([
  'Enabled'
  'Disabled'
])
param highAvailability string = 'Enabled'

@description('Object (principal) id of the app\'s managed identity: a Redis user through the default access policy.')
param principalId string

@description('Object id of the person (or CI service principal) who deploys, given the same Redis access so that the app runs against this cache from their machine; empty: nobody.')
param deployerPrincipalId string = ''

// The only access policy Azure Managed Redis offers; it allows the commands the app runs (MULTI,
// RPUSH, LTRIM, EXPIRE, LRANGE, GET, SET, DEL, PING, and EVALSHA/EVAL of rate-limiter-flexible's script).
var accessPolicyName = 'default'
var hasDeployer = !empty(deployerPrincipalId)

resource redis 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: highAvailability
    // Required by this API version. Enabled: the Flex Consumption app reaches Redis over the public
    // endpoint, where TLS and Entra ID (keys are off) protect it; a private endpoint would need a VNet.
    publicNetworkAccess: 'Enabled'
  }
}

// The one database of the cluster, which Azure requires to be named 'default'.
resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: redis
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    // NoCluster: the endpoint is one ordinary Redis to ioredis (no MOVED, no CROSSSLOT), so the app's
    // plain client works unchanged. Not the default OSSCluster, which needs a cluster-aware client.
    // The app keeps every multi-key operation on one key anyway (the session MULTI of RPUSH + LTRIM +
    // EXPIRE touches mem:<session> only; rate-limiter-flexible's Lua script one key per principal),
    // so it would run under EnterpriseCluster too.
    clusteringPolicy: 'NoCluster'
    // Session lists carry a TTL; under memory pressure the least recently used of them go first,
    // never a key without one.
    evictionPolicy: 'VolatileLRU'
    accessKeysAuthentication: 'Disabled'
  }
}

// Assignment names allow letters and digits only (^[A-Za-z0-9]{1,60}$): a guid without its hyphens,
// derived from the database and the object id, so a redeployment finds the same assignment.
resource appIdentityAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = {
  parent: database
  name: replace(guid(database.id, principalId, accessPolicyName), '-', '')
  properties: {
    accessPolicyName: accessPolicyName
    user: {
      objectId: principalId
    }
  }
}

resource deployerAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = if (hasDeployer) {
  parent: database
  name: replace(guid(database.id, deployerPrincipalId, accessPolicyName), '-', '')
  // The database takes one assignment write at a time: two in parallel fail with a terminal
  // 'Failed' state (Azure/azure-dev#6640).
  dependsOn: [
    appIdentityAccess
  ]
  properties: {
    accessPolicyName: accessPolicyName
    user: {
      objectId: deployerPrincipalId
    }
  }
}

output name string = redis.name

@description('Host name, <name>.<region>.redis.azure.net: REDIS_HOST.')
output hostName string = redis.properties.hostName

@description('TLS port of the database (10000): REDIS_PORT.')
output port int = database.properties.port
