/**
 * The Bicep templates under infra/ and azure.yaml, checked as text: the Bicep compiler is not
 * available here (`npm run infra:build` compiles them where it is). What must hold for the app to
 * run in Azure without a single secret: no key is read, every service refuses keys, the app
 * settings are the names src/config/config.ts reads (and the Functions host's own), the managed
 * identity gets exactly the roles it needs, and the Function App is a Flex Consumption app that
 * azd can deploy.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import {
  allResources,
  appSettings,
  bicep,
  bicepFiles,
  braceBlock,
  declared,
  deployedResourceValues,
  configSettingNames,
  functionAppFile,
  infraDir,
  jsonFiles,
  literal,
  moduleParams,
  objectEntries,
  platformSetting,
  resources,
  root,
  stringVars,
  varObject,
  varObjectList,
  type ResourceDeclaration,
} from "./bicep_text.js";

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

/** Reading or composing a key, a SAS or a key-bearing connection string, in any form. */
const secretPatterns: readonly RegExp[] = [
  /listKeys/i, // storage, redis, cognitive services keys (listKeys() and resource.listKeys())
  /listConnectionStrings/i,
  /list(Account|Service)Sas/i,
  /\b(primary|secondary)(Master)?Key\b/i,
  /\baccessKeys\b/i,
  /\bkey1\b|\bkey2\b/i,
  /AccountKey=/i,
  /SharedAccessSignature/i,
  /SharedAccessKey/i,
  /DefaultEndpointsProtocol=/i,
  /\bpassword\b/i,
];

function secretReads(text: string): string[] {
  return secretPatterns.filter((pattern) => pattern.test(text)).map(String);
}

/** Every `ConnectionString` that is not `<App Insights resource>.properties.ConnectionString`. */
function foreignConnectionStrings(file: string, text: string): string[] {
  const appInsightsSymbols = resources(file)
    .filter((r) => r.type === "Microsoft.Insights/components")
    .map((r) => r.symbol);
  const problems: string[] = [];
  for (const m of text.matchAll(/[\w.]*connectionstring\w*/gi)) {
    const allowed = appInsightsSymbols.some((symbol) => m[0] === `${symbol}.properties.ConnectionString`);
    if (!allowed) problems.push(`${file}: ${m[0]}`);
  }
  return problems;
}

describe("infra: no secret anywhere", () => {
  it("has the templates to check", () => {
    expect([...bicepFiles.keys()]).toEqual(
      expect.arrayContaining([
        "main.bicep",
        "modules/identity.bicep",
        "modules/storage.bicep",
        "modules/monitoring.bicep",
        "modules/redis.bicep",
        "modules/openai.bicep",
        "modules/functionapp.bicep",
        "modules/roles.bicep",
      ]),
    );
    expect([...jsonFiles.keys()]).toContain("main.parameters.json");
  });

  it("the secret scanner flags the ways a key is read or composed (so the next check can fail)", () => {
    expect(secretReads("value: storage.listKeys().keys[0].value")).not.toEqual([]);
    expect(secretReads("value: listKeys(redis.id, '2024-11-01').primaryKey")).not.toEqual([]);
    expect(secretReads("'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${k}'")).not.toEqual([]);
    expect(secretReads("value: openAi.listKeys().key1")).not.toEqual([]);
    expect(secretReads("value: storage.name")).toEqual([]);
    expect(foreignConnectionStrings("main.bicep", "x: 'DefaultEndpointsProtocol=https' // connectionString")).not.toEqual([]);
  });

  it("no template or parameter file reads a storage, Redis or OpenAI key, a SAS or a key-bearing connection string", () => {
    const found = [...bicepFiles, ...jsonFiles].flatMap(([file, text]) => secretReads(text).map((p) => `${file}: ${p}`));
    expect(found).toEqual([]);
  });

  it("the only connection string is Application Insights' (instrumentation key and endpoints, no secret)", () => {
    const found = [...bicepFiles].flatMap(([file, text]) => foreignConnectionStrings(file, text));
    expect(found).toEqual([]);
    expect(bicep("modules/functionapp.bicep")).toMatch(/APPLICATIONINSIGHTS_CONNECTION_STRING:\s*applicationInsights\.properties\.ConnectionString/);
  });

  it("declares no secure parameter or output: there is nothing secret to pass", () => {
    for (const [file, text] of bicepFiles) expect(text, file).not.toMatch(/@secure\(\)/);
  });
});

// ---------------------------------------------------------------------------------------------
// Services refuse keys
// ---------------------------------------------------------------------------------------------

describe("infra: every service refuses keys", () => {
  it("storage: shared keys off, TLS 1.2, no public blob access", () => {
    const { body } = declared("modules/storage.bicep", "Microsoft.Storage/storageAccounts");
    expect(body).toMatch(/allowSharedKeyAccess:\s*false\b/);
    expect(body).toMatch(/minimumTlsVersion:\s*'TLS1_2'/);
    expect(body).toMatch(/allowBlobPublicAccess:\s*false\b/);
  });

  it("storage: the containers, queues and tables the app and the Flex deployment use", () => {
    const storage = bicep("modules/storage.bicep");
    for (const type of ["blobServices/containers", "queueServices/queues", "tableServices/tables"]) {
      expect(resources("modules/storage.bicep").map((r) => r.type)).toContain(`Microsoft.Storage/storageAccounts/${type}`);
    }
    expect(varObjectList(storage, "containerNames")).toEqual(["deploymentContainerName", "resultsContainerName"]);
    expect(varObjectList(storage, "queueNames")).toEqual(["runsQueueName", "'${runsQueueName}-poison'"]);
    expect(varObjectList(storage, "tableNames")).toEqual(["auditTableName", "runsTableName"]);
    const params = moduleParams("storage").params;
    const names = stringVars("main.bicep");
    expect(names.get(params.get("resultsContainerName")!)).toBe("plugin-results");
    expect(names.get(params.get("runsQueueName")!)).toBe("plugin-runs");
    expect(names.get(params.get("auditTableName")!)).toBe("auditlog");
    expect(names.get(params.get("runsTableName")!)).toBe("pluginruns");
  });

  it("Azure OpenAI (optional): local auth off, a custom subdomain, a chat deployment", () => {
    const account = declared("modules/openai.bicep", "Microsoft.CognitiveServices/accounts");
    expect(account.body).toMatch(/kind:\s*'OpenAI'/);
    expect(account.body).toMatch(/disableLocalAuth:\s*true\b/);
    expect(account.body).toMatch(/customSubDomainName:\s*\w+/);
    declared("modules/openai.bicep", "Microsoft.CognitiveServices/accounts/deployments");
    expect(bicep("main.bicep")).toMatch(/^param deployOpenAi bool = false$/m);
    expect(moduleParams("openai").condition).toBe("deployOpenAi");
  });

  it("Application Insights: workspace-based, local auth off", () => {
    const { body } = declared("modules/monitoring.bicep", "Microsoft.Insights/components");
    expect(body).toMatch(/DisableLocalAuth:\s*true\b/i);
    expect(body).toMatch(/WorkspaceResourceId:\s*logAnalytics\.id/);
    declared("modules/monitoring.bicep", "Microsoft.OperationalInsights/workspaces");
  });
});

// ---------------------------------------------------------------------------------------------
// Azure Managed Redis
// ---------------------------------------------------------------------------------------------

const redisFile = "modules/redis.bicep";
const redisApi = "Microsoft.Cache/redisEnterprise";
const accessPolicyAssignmentType = `${redisApi}/databases/accessPolicyAssignments`;

/** The `properties: { ... }` of a resource body, as name → expression. */
function propertiesOf(body: string): Map<string, string> {
  return objectEntries(braceBlock(body, body.search(/properties\s*:/)));
}

/** The name a Redis access policy assignment gets: `replace(guid(<args>), '<from>', '<to>')` evaluated on a sample guid. */
function assignmentName(expression: string | undefined): { guidArgs: string[]; sample: string } {
  const m = /^replace\(guid\(([^()]*)\),\s*'([^']*)',\s*'([^']*)'\)$/.exec(expression ?? "");
  if (!m) return { guidArgs: [], sample: expression ?? "" };
  return { guidArgs: m[1]!.split(",").map((a) => a.trim()), sample: "0f8fad5b-d9cb-469f-a165-70867728950e".split(m[2]!).join(m[3]!) };
}

describe("infra: Azure Managed Redis, Microsoft Entra ID only", () => {
  it("declares no Azure Cache for Redis (Microsoft.Cache/redis), which is retiring, anywhere", () => {
    expect(
      allResources()
        .filter((r) => r.type.startsWith("Microsoft.Cache/redis/") || r.type === "Microsoft.Cache/redis")
        .map((r) => `${r.file}: ${r.symbol}`),
    ).toEqual([]);
    for (const [file, text] of bicepFiles) expect(text, file).not.toMatch(/Microsoft\.Cache\/redis@/);
  });

  it("a redisEnterprise cluster with an Azure Managed Redis SKU, TLS 1.2 and publicNetworkAccess set (required by its API version)", () => {
    const cluster = declared(redisFile, redisApi);
    expect(cluster.apiVersion >= "2025-07-01", `API version ${cluster.apiVersion} offers NoCluster and requires publicNetworkAccess`).toBe(true);
    const properties = propertiesOf(cluster.body);
    expect(properties.get("publicNetworkAccess")).toMatch(/^'(Enabled|Disabled)'$/);
    expect(properties.get("minimumTlsVersion")).toBe("'1.2'");
    expect(objectEntries(braceBlock(cluster.body, cluster.body.search(/sku\s*:/))).get("name")).toBe("skuName");
    expect(bicep(redisFile)).toMatch(/^param skuName string = '(Balanced|MemoryOptimized|ComputeOptimized)_[A-Z]\d+'$/m);
    expect(moduleParams("redis").params.get("skuName")).toBe("redisSkuName");
    expect(bicep("main.bicep")).toMatch(/^param redisSkuName string = 'Balanced_B0'$/m);
  });

  it("its database: 'default', TLS only on port 10000, access keys disabled, a clustering policy a plain ioredis client can use", () => {
    const database = declared(redisFile, `${redisApi}/databases`);
    expect(database.apiVersion).toBe(declared(redisFile, redisApi).apiVersion);
    const top = objectEntries(database.body);
    expect(top.get("parent")).toBe(declared(redisFile, redisApi).symbol);
    expect(top.get("name")).toBe("'default'");
    const properties = propertiesOf(database.body);
    expect(properties.get("accessKeysAuthentication")).toBe("'Disabled'");
    expect(properties.get("clientProtocol")).toBe("'Encrypted'");
    expect(properties.get("port")).toBe("10000");
    // OSSCluster (the default when unset) needs a cluster-aware client; ioredis's Redis class is not one.
    expect(properties.get("clusteringPolicy")).toMatch(/^'(NoCluster|EnterpriseCluster)'$/);
  });

  it("REDIS_PORT in the app settings is the database's port, and the config module's default port is the same 10000", () => {
    const database = declared(redisFile, `${redisApi}/databases`);
    expect(bicep(redisFile)).toMatch(new RegExp(`^output port int = ${database.symbol}\\.properties\\.port$`, "m"));
    expect(bicep(redisFile)).toMatch(new RegExp(`^output hostName string = ${declared(redisFile, redisApi).symbol}\\.properties\\.hostName$`, "m"));
    expect(moduleParams("functionApp").params.get("redisPort")).toBe("redis.outputs.port");
    expect(appSettings().get("REDIS_PORT")).toBe("string(redisPort)");
    expect(bicep(functionAppFile)).toMatch(/^param redisPort int = 10000$/m);
    expect(loadConfig({ REDIS_HOST: "redis-abc.swedencentral.redis.azure.net", REDIS_USERNAME: "u" }).memory.redisEntra?.port).toBe(10000);
  });

  it("the app's identity is a Redis user: the 'default' access policy assigned to its object id, under a name of letters and digits only", () => {
    const database = declared(redisFile, `${redisApi}/databases`);
    const assignments = resources(redisFile).filter((r) => r.type === accessPolicyAssignmentType && !r.existing);
    const app = assignments.find((r) => propertiesOf(r.body).get("user") !== undefined && /objectId:\s*principalId\b/.test(r.body));
    expect(app, "an access policy assignment whose user.objectId is principalId").toBeDefined();
    expect(app!.condition, "the app's assignment is unconditional").toBeUndefined();
    expect(app!.apiVersion).toBe(database.apiVersion);
    const top = objectEntries(app!.body);
    expect(top.get("parent")).toBe(database.symbol);
    const properties = propertiesOf(app!.body);
    expect(properties.get("accessPolicyName") === "'default'" || stringVars(redisFile).get(properties.get("accessPolicyName")!) === "default").toBe(true);
    const name = assignmentName(top.get("name"));
    expect(name.guidArgs, "guid(<database>.id, principalId, ...): the same name on every deployment").toEqual(
      expect.arrayContaining([`${database.symbol}.id`, "principalId"]),
    );
    expect(name.sample).toMatch(/^[A-Za-z0-9]{1,60}$/);
    expect(moduleParams("redis").params.get("principalId")).toBe("identity.outputs.principalId");
    // The Redis user name the app sends is that same object id.
    expect(moduleParams("functionApp").params.get("identityPrincipalId")).toBe("identity.outputs.principalId");
    expect(appSettings().get("REDIS_USERNAME")).toBe("identityPrincipalId");
  });

  it("the deployer, when given, is a Redis user too: after the app's assignment (the database takes one write at a time), under its own name", () => {
    const assignments = resources(redisFile).filter((r) => r.type === accessPolicyAssignmentType && !r.existing);
    expect(assignments).toHaveLength(2);
    const deployer = assignments.find((r) => /objectId:\s*deployerPrincipalId\b/.test(r.body));
    const app = assignments.find((r) => /objectId:\s*principalId\b/.test(r.body));
    expect(deployer, "an access policy assignment whose user.objectId is deployerPrincipalId").toBeDefined();
    expect(deployer!.condition).toBe("hasDeployer");
    expect(bicep(redisFile)).toMatch(/^var hasDeployer = !empty\(deployerPrincipalId\)$/m);
    expect(bicep(redisFile)).toMatch(/^param deployerPrincipalId string = ''$/m);
    expect(deployer!.body).toMatch(new RegExp(`dependsOn:\\s*\\[\\s*${app!.symbol}\\s*\\]`));
    const name = assignmentName(objectEntries(deployer!.body).get("name"));
    expect(name.guidArgs).toContain("deployerPrincipalId");
    expect(name.sample).toMatch(/^[A-Za-z0-9]{1,60}$/);
    expect(propertiesOf(deployer!.body).get("accessPolicyName")).toBe(propertiesOf(app!.body).get("accessPolicyName"));
    expect(moduleParams("redis").params.get("deployerPrincipalId")).toBe("principalId");
  });
});

// ---------------------------------------------------------------------------------------------
// The Function App and its settings
// ---------------------------------------------------------------------------------------------

describe("infra: the Function App's settings", () => {
  it("are exactly the appSettings, openAiAppSettings, pluginPolicyAppSettings and appServiceAuthAppSettings objects", () => {
    // The nested `resource configAppSettings 'config'` (type without an API version).
    const text = bicep(functionAppFile);
    const at = text.search(/resource\s+\w+\s+'config'\s*=\s*\{/);
    expect(at, "a nested 'config' resource").toBeGreaterThan(-1);
    const block = braceBlock(text, at);
    expect(block).toMatch(/name:\s*'appsettings'/);
    expect(block).toMatch(/properties:\s*union\(appSettings,\s*openAiAppSettings,\s*pluginPolicyAppSettings,\s*appServiceAuthAppSettings\)/);
    expect(text.match(/\bappSettings\s*:/g) ?? [], "no second appSettings block (siteConfig.appSettings)").toEqual([]);
  });

  it("include everything the app needs in Azure, and the identity-based host storage", () => {
    const settings = appSettings();
    for (const name of [
      "STORAGE_ACCOUNT_NAME",
      "AZURE_CLIENT_ID",
      "REDIS_HOST",
      "REDIS_PORT",
      "REDIS_USERNAME",
      "AUDIT_TABLE_NAME",
      "RUNS_TABLE_NAME",
      "PLUGIN_RUNS_QUEUE",
      "PLUGIN_RESULTS_CONTAINER",
      "APPLICATIONINSIGHTS_CONNECTION_STRING",
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
      "AzureWebJobsStorage__accountName",
      "AzureWebJobsStorage__credential",
      "AzureWebJobsStorage__clientId",
    ]) {
      expect(settings.has(name), `app setting ${name}`).toBe(true);
    }
    expect(settings.get("AzureWebJobsStorage__credential")).toBe("'managedidentity'");
    expect(settings.get("AzureWebJobsStorage__clientId")).toBe("identityClientId");
    expect(settings.get("AzureWebJobsStorage__accountName")).toBe("storage.name");
    expect(settings.get("STORAGE_ACCOUNT_NAME")).toBe("storage.name");
    expect(settings.get("AZURE_CLIENT_ID")).toBe("identityClientId");
    expect(settings.get("REDIS_USERNAME")).toBe("identityPrincipalId");
    expect(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")).toBe("'ClientId=${identityClientId};Authorization=AAD'");
    expect([...varObject(functionAppFile, "openAiAppSettings").keys()].sort()).toEqual(["AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_ENDPOINT"]);
  });

  it("are fed the identity's client id and object id by main.bicep", () => {
    const { params } = moduleParams("functionApp");
    expect(params.get("identityClientId")).toBe("identity.outputs.clientId");
    expect(params.get("identityPrincipalId")).toBe("identity.outputs.principalId");
    expect(params.get("identityId")).toBe("identity.outputs.id");
    expect(params.get("redisHostName")).toBe("redis.outputs.hostName");
    expect(params.get("storageAccountName")).toBe("storage.outputs.name");
  });

  it("name only settings that src/config/config.ts reads (a typo fails here), besides the platform's own", () => {
    const known = configSettingNames();
    expect(known.size, "settings of the configuration schema").toBeGreaterThan(40);
    expect(known.has("REDIS_USERNAME")).toBe(true);
    const unknown = [...appSettings().keys()].filter((name) => !platformSetting.test(name) && !known.has(name));
    expect(unknown).toEqual([]);
  });

  it("leave out what Flex Consumption sets elsewhere or does not support", () => {
    const names = [...appSettings().keys()];
    for (const name of [
      "FUNCTIONS_EXTENSION_VERSION",
      "FUNCTIONS_WORKER_RUNTIME",
      "WEBSITE_RUN_FROM_PACKAGE",
      "WEBSITE_NODE_DEFAULT_VERSION",
      "AzureWebJobsStorage",
    ]) {
      expect(names, name).not.toContain(name);
    }
    expect(bicep(functionAppFile)).not.toMatch(/FUNCTIONS_(EXTENSION_VERSION|WORKER_RUNTIME)/);
  });

  it("carry no value that looks like a secret", () => {
    const suspicious = [...appSettings()].filter(([, value]) => /key|password|secret|AccountKey|listKeys|sig=|token/i.test(value));
    expect(suspicious).toEqual([]);
  });

  it("make a configuration the app accepts: identity-based storage, Redis with Entra ID, Azure OpenAI only when deployed", () => {
    // Expressions become plausible deployed values; literals are taken as they are.
    const deployed: Record<string, string> = {
      ...deployedResourceValues,
      openAiEndpoint: "https://oai-abc.openai.azure.com/",
      openAiDeploymentName: "chat",
      // The callers' settings (tests/unit/infra/auth_settings.test.ts evaluates them from the Bicep).
      authMode: "jwt",
      "join(jwtIssuers, ',')":
        "https://login.microsoftonline.com/77777777-0000-0000-0000-000000000000/v2.0,https://sts.windows.net/77777777-0000-0000-0000-000000000000/",
      "join(jwtAudiences, ',')": "88888888-0000-0000-0000-000000000000,api://88888888-0000-0000-0000-000000000000",
      mcpScope: "api://88888888-0000-0000-0000-000000000000/user_impersonation",
      httpAuthLevel: "anonymous",
      pluginPolicy: '{"shell":{"roles":["admin"],"channels":["execute"]}}',
    };
    const environmentOf = (settings: Map<string, string>): Record<string, string> =>
      Object.fromEntries(
        [...settings]
          .filter(([name]) => !platformSetting.test(name))
          .map(([name, expression]) => {
            const value = literal(expression) ?? deployed[expression];
            if (value === undefined) throw new Error(`no deployed value for ${name}: ${expression}`);
            return [name, value];
          }),
      );

    const withoutOpenAi = loadConfig(environmentOf(varObject(functionAppFile, "appSettings")));
    expect(withoutOpenAi.storage).toEqual({
      kind: "identity",
      tableEndpoint: "https://stabcdefgh12345.table.core.windows.net",
      blobEndpoint: "https://stabcdefgh12345.blob.core.windows.net",
      queueEndpoint: "https://stabcdefgh12345.queue.core.windows.net",
    });
    expect(withoutOpenAi.memory.redisUrl).toBeUndefined();
    expect(withoutOpenAi.memory.redisEntra).toEqual({
      host: "redis-abc.swedencentral.redis.azure.net",
      port: 10000,
      tls: true,
      username: "66666666-7777-8888-9999-000000000000",
    });
    expect(withoutOpenAi.azure.clientId).toBe("11111111-2222-3333-4444-555555555555");
    expect(withoutOpenAi.runs).toMatchObject({
      queueName: "plugin-runs",
      poisonQueueName: "plugin-runs-poison",
      resultsContainer: "plugin-results",
      tableName: "pluginruns",
    });
    expect(withoutOpenAi.audit.tableName).toBe("auditlog");
    expect(withoutOpenAi.llm.provider).toBe("none");

    const withOpenAi = loadConfig(environmentOf(appSettings()));
    expect(withOpenAi.llm).toMatchObject({ provider: "azure-openai", endpoint: "https://oai-abc.openai.azure.com/", deployment: "chat", apiKey: undefined });
  });
});

describe("infra: the Function App is Flex Consumption, Node.js 22, deployed with the identity", () => {
  it("runs on an FC1 plan", () => {
    const { body } = declared(functionAppFile, "Microsoft.Web/serverfarms");
    expect(body).toMatch(/name:\s*'FC1'/);
    expect(body).toMatch(/tier:\s*'FlexConsumption'/);
    expect(body).toMatch(/reserved:\s*true\b/);
  });

  it("is a Linux function app with functionAppConfig: runtime node 22, identity-based deployment storage", () => {
    const site = declared(functionAppFile, "Microsoft.Web/sites");
    expect(site.body).toMatch(/kind:\s*'functionapp,linux'/);
    expect(site.body).toMatch(/serverFarmId:\s*plan\.id/);
    const config = braceBlock(site.body, site.body.search(/functionAppConfig\s*:/));
    const runtime = objectEntries(braceBlock(config, config.search(/runtime\s*:/)));
    expect(runtime.get("name")).toBe("'node'");
    expect(runtime.get("version")).toBe("'22'");
    const storage = braceBlock(config, config.search(/storage\s*:/));
    expect(storage).toMatch(/type:\s*'blobContainer'/);
    expect(storage).toMatch(/value:\s*'\$\{storage\.properties\.primaryEndpoints\.blob\}\$\{deploymentContainerName\}'/);
    const authentication = objectEntries(braceBlock(storage, storage.search(/authentication\s*:/)));
    expect(authentication.get("type")).toBe("'UserAssignedIdentity'");
    expect(authentication.get("userAssignedIdentityResourceId")).toBe("identityId");
    expect(config).toMatch(/instanceMemoryMB:\s*instanceMemoryMB/);
    expect(config).toMatch(/maximumInstanceCount:\s*maximumInstanceCount/);
  });

  it("runs as the user-assigned identity only", () => {
    const site = declared(functionAppFile, "Microsoft.Web/sites");
    const identity = braceBlock(site.body, site.body.search(/identity\s*:/));
    expect(identity).toMatch(/type:\s*'UserAssigned'/);
    expect(identity).toMatch(/'\$\{identityId\}':\s*\{\}/);
    declared("modules/identity.bicep", "Microsoft.ManagedIdentity/userAssignedIdentities");
  });

  it("carries the azd-service-name tag of the azure.yaml service", () => {
    const site = declared(functionAppFile, "Microsoft.Web/sites");
    expect(site.body).toMatch(/'azd-service-name':\s*serviceName/);
    expect(moduleParams("functionApp").params.get("serviceName")).toBe(`'${functionService().name}'`);
  });

  it("waits for the role assignments, so the host can reach its storage from the first start", () => {
    const text = bicep("main.bicep");
    const m = /^module\s+functionApp\s+'[^']+'\s*=\s*\{/m.exec(text)!;
    expect(braceBlock(text, m.index + m[0].length - 1)).toMatch(/dependsOn:\s*\[\s*roles\s*\]/);
  });
});

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

const requiredRoles = {
  "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
  "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
} as const;
const owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const guidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

interface Assignment {
  readonly symbol: string;
  readonly roleId: string;
  readonly scope: ResourceDeclaration | undefined;
  readonly condition: string | undefined;
  readonly properties: Map<string, string>;
  readonly name: string | undefined;
}

function roleAssignments(): Assignment[] {
  const file = "modules/roles.bicep";
  const vars = stringVars(file);
  const declarations = resources(file);
  return declarations
    .filter((r) => r.type === "Microsoft.Authorization/roleAssignments")
    .map((r) => {
      const top = objectEntries(r.body);
      const properties = objectEntries(braceBlock(r.body, r.body.search(/properties\s*:/)));
      const definition = /roleDefinitions',\s*(?:'([^']+)'|(\w+))\s*\)/.exec(properties.get("roleDefinitionId") ?? "");
      const roleId = definition?.[1] ?? vars.get(definition?.[2] ?? "") ?? "(unresolved)";
      const scopeSymbol = top.get("scope");
      return {
        symbol: r.symbol,
        roleId: roleId.toLowerCase(),
        scope: declarations.find((d) => d.symbol === scopeSymbol),
        condition: r.condition,
        properties,
        name: top.get("name"),
      };
    });
}

/** The identity's assignments: principalId is the module's principalId parameter (the identity). */
const ofIdentity = (a: Assignment): boolean => a.properties.get("principalId") === "principalId";
/** The deployer's: principalId is deployerPrincipalId (main.bicep principalId, azd's signed-in user). */
const ofDeployer = (a: Assignment): boolean => a.properties.get("principalId") === "deployerPrincipalId";

describe("infra: the identity's roles", () => {
  it("every role assignment is in roles.bicep, and each is the identity's or the deployer's", () => {
    const elsewhere = allResources().filter((r) => r.type === "Microsoft.Authorization/roleAssignments" && r.file !== "modules/roles.bicep");
    expect(elsewhere.map((r) => `${r.file}: ${r.symbol}`)).toEqual([]);
    expect(
      roleAssignments()
        .filter((a) => !ofIdentity(a) && !ofDeployer(a))
        .map((a) => a.symbol),
    ).toEqual([]);
  });

  it("assigns exactly the five roles to the identity, by their built-in GUIDs", () => {
    const assigned = roleAssignments()
      .filter(ofIdentity)
      .map((a) => a.roleId);
    expect([...assigned].sort()).toEqual(Object.values(requiredRoles).sort());
  });

  it("each to the identity's principal id, as a ServicePrincipal, under a guid() name", () => {
    const assignments = roleAssignments().filter(ofIdentity);
    expect(assignments.length).toBeGreaterThan(0);
    for (const a of assignments) {
      expect(a.properties.get("principalType"), a.symbol).toBe("'ServicePrincipal'");
      expect(a.name ?? "", a.symbol).toMatch(/^guid\(.*\bprincipalId\b.*\)$/);
    }
    expect(moduleParams("roles").params.get("principalId")).toBe("identity.outputs.principalId");
  });

  it("on the narrowest scope: storage roles on the account, publishing on App Insights, inference on Azure OpenAI when deployed", () => {
    const scopeOf = new Map(
      roleAssignments()
        .filter(ofIdentity)
        .map((a) => [a.roleId, a]),
    );
    for (const role of ["Storage Blob Data Owner", "Storage Table Data Contributor", "Storage Queue Data Contributor"] as const) {
      expect(scopeOf.get(requiredRoles[role])?.scope?.type, role).toBe("Microsoft.Storage/storageAccounts");
    }
    expect(scopeOf.get(requiredRoles["Monitoring Metrics Publisher"])?.scope?.type).toBe("Microsoft.Insights/components");
    const openAi = scopeOf.get(requiredRoles["Cognitive Services OpenAI User"]);
    expect(openAi?.scope?.type).toBe("Microsoft.CognitiveServices/accounts");
    expect(openAi?.condition).toBe("deployOpenAi");
    for (const a of roleAssignments()
      .filter(ofIdentity)
      .filter((x) => x.roleId !== requiredRoles["Cognitive Services OpenAI User"])) {
      expect(a.condition, `${a.symbol} is unconditional`).toBeUndefined();
    }
  });

  it("names no other role anywhere: no Owner, no Contributor", () => {
    const allowed = new Set<string>(Object.values(requiredRoles));
    const everyGuid = [...bicepFiles].flatMap(([file, text]) => [...text.matchAll(guidPattern)].map((m) => `${file}: ${m[0].toLowerCase()}`));
    expect(everyGuid.filter((entry) => !allowed.has(entry.split(": ")[1]!))).toEqual([]);
    for (const [file, text] of bicepFiles) {
      expect(text.toLowerCase(), file).not.toContain(owner);
      expect(text.toLowerCase(), file).not.toContain(contributor);
    }
  });
});

const deployerRoles = [
  "Storage Blob Data Owner",
  "Storage Table Data Contributor",
  "Storage Queue Data Contributor",
  "Cognitive Services OpenAI User",
] as const;

describe("infra: the deployer's data roles (principalId, so the app runs locally against the deployed services without keys)", () => {
  it("main.bicep takes an optional principalId (azd: AZURE_PRINCIPAL_ID) and principalType, and hands them to roles and Redis", () => {
    const main = bicep("main.bicep");
    expect(main).toMatch(/^param principalId string = ''$/m);
    expect(main).toMatch(/^param principalType string = 'User'$/m);
    const parameters = (JSON.parse(jsonFiles.get("main.parameters.json")!) as { parameters: Record<string, { value: unknown }> }).parameters;
    expect(parameters.principalId?.value).toBe("${AZURE_PRINCIPAL_ID}");
    expect(parameters.principalType?.value).toBe("${AZURE_PRINCIPAL_TYPE=User}");
    const roles = moduleParams("roles").params;
    expect(roles.get("deployerPrincipalId")).toBe("principalId");
    expect(roles.get("deployerPrincipalType")).toBe("principalType");
    expect(bicep("modules/roles.bicep")).toMatch(/^param deployerPrincipalId string = ''$/m);
    expect(bicep("modules/roles.bicep")).toMatch(/^var hasDeployer = !empty\(deployerPrincipalId\)$/m);
  });

  it("gets the app's data roles on storage, and Azure OpenAI User when OpenAI is deployed; nothing else", () => {
    const assigned = roleAssignments().filter(ofDeployer);
    expect(assigned.map((a) => a.roleId).sort()).toEqual(deployerRoles.map((role) => requiredRoles[role]).sort());
    const byRole = new Map(assigned.map((a) => [a.roleId, a]));
    for (const role of deployerRoles) {
      const a = byRole.get(requiredRoles[role])!;
      // Same scope as the identity's assignment of the role.
      const identity = roleAssignments()
        .filter(ofIdentity)
        .find((x) => x.roleId === a.roleId)!;
      expect(a.scope?.symbol, role).toBe(identity.scope?.symbol);
      expect(a.condition, role).toBe(role === "Cognitive Services OpenAI User" ? "deployOpenAi && hasDeployer" : "hasDeployer");
    }
  });

  it("each as the given principal type, under a deterministic guid() name of its own", () => {
    for (const a of roleAssignments().filter(ofDeployer)) {
      expect(a.properties.get("principalType"), a.symbol).toBe("deployerPrincipalType");
      expect(a.name ?? "", a.symbol).toMatch(/^guid\(\w+\.id, deployerPrincipalId, \w+RoleId\)$/);
      expect(a.properties.get("roleDefinitionId"), a.symbol).toContain(/\b(\w+RoleId)\)$/.exec(a.name ?? "")?.[1] ?? "(no role in the name)");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// main.bicep, its parameters, azure.yaml, build.mjs
// ---------------------------------------------------------------------------------------------

describe("infra: main.bicep and its azd parameters", () => {
  it("is subscription-scoped and creates the resource group the modules deploy into", () => {
    const text = bicep("main.bicep");
    expect(text).toMatch(/^targetScope = 'subscription'$/m);
    declared("main.bicep", "Microsoft.Resources/resourceGroups");
    const modules = [...text.matchAll(/^module\s+(\w+)\s+'([^']+)'/gm)];
    expect(modules.map((m) => m[1])).toEqual(["identity", "storage", "monitoring", "redis", "openai", "roles", "functionApp"]);
    for (const m of modules) {
      expect(bicepFiles.has(m[2]!), `module file ${m[2]}`).toBe(true);
      expect(braceBlock(text, m.index!), `module ${m[1]}`).toMatch(/scope:\s*rg\b/);
    }
  });

  it("every module parameter passed is one the module declares", () => {
    const text = bicep("main.bicep");
    for (const m of text.matchAll(/^module\s+(\w+)\s+'([^']+)'/gm)) {
      const declaredParams = new Set([...bicep(m[2]!).matchAll(/^param\s+(\w+)\s/gm)].map((p) => p[1]!));
      const passed = [...moduleParams(m[1]!).params.keys()];
      expect(
        passed.filter((name) => !declaredParams.has(name)),
        `params of module ${m[1]}`,
      ).toEqual([]);
    }
  });

  it("outputs the API URL, the names azd and operators need, and no secret", () => {
    const outputs = new Map([...bicep("main.bicep").matchAll(/^output\s+(\w+)\s+\w+\s*=\s*(.+)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    for (const name of [
      "AZURE_LOCATION",
      "AZURE_TENANT_ID",
      "AZURE_RESOURCE_GROUP",
      "AZURE_FUNCTION_APP_NAME",
      "SERVICE_API_URI",
      "AZURE_STORAGE_ACCOUNT_NAME",
      "REDIS_HOST_NAME",
      "APPLICATIONINSIGHTS_NAME",
      "AZURE_MANAGED_IDENTITY_CLIENT_ID",
      "AZURE_OPENAI_ENDPOINT",
    ]) {
      expect(outputs.has(name), `output ${name}`).toBe(true);
    }
    expect(outputs.has("AZURE_CLIENT_ID"), "AZURE_CLIENT_ID would redirect credentials in azd hooks").toBe(false);
    expect(bicep("modules/functionapp.bicep")).toMatch(/^output apiUrl string = 'https:\/\/\$\{functionApp\.properties\.defaultHostName\}\/api'$/m);
  });

  it("main.parameters.json feeds declared parameters from azd's environment", () => {
    const parameters = (JSON.parse(jsonFiles.get("main.parameters.json")!) as { parameters: Record<string, { value: unknown }> }).parameters;
    expect(parameters.environmentName?.value).toBe("${AZURE_ENV_NAME}");
    expect(parameters.location?.value).toBe("${AZURE_LOCATION}");
    const declaredParams = new Set([...bicep("main.bicep").matchAll(/^param\s+(\w+)\s/gm)].map((m) => m[1]!));
    expect(Object.keys(parameters).filter((name) => !declaredParams.has(name))).toEqual([]);
  });
});

interface AzdService {
  readonly name: string;
  readonly fields: Map<string, string>;
}

/** The services of azure.yaml, read line by line (two-space indentation, as azd writes it). */
function azdServices(): AzdService[] {
  const lines = readFileSync(join(root, "azure.yaml"), "utf8")
    .split(/\r?\n/)
    .map((line) => line.replace(/\s+#.*$/, ""))
    .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  const start = lines.findIndex((line) => /^services:\s*$/.test(line));
  expect(start, "azure.yaml has a services: section").toBeGreaterThan(-1);
  const services: { name: string; fields: Map<string, string> }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level key
    const service = /^ {2}([\w-]+):\s*$/.exec(line);
    const field = /^ {4}([\w-]+):\s*(.*?)\s*$/.exec(line);
    if (service) services.push({ name: service[1]!, fields: new Map() });
    else if (field && services.length > 0) services.at(-1)!.fields.set(field[1]!, field[2]!.replace(/^(['"])(.*)\1$/, "$2"));
  }
  return services;
}

function functionService(): AzdService {
  const functions = azdServices().filter((s) => s.fields.get("host") === "function");
  expect(
    functions.map((s) => s.name),
    "function services in azure.yaml",
  ).toHaveLength(1);
  return functions[0]!;
}

describe("azure.yaml", () => {
  it("names one function service whose project is the repository root", () => {
    const service = functionService();
    expect(service.fields.get("project")).toMatch(/^\.\/?$/);
    expect(["ts", "js", "typescript", "javascript"]).toContain(service.fields.get("language"));
  });

  it("ships the locally built bundle and points at infra/main.bicep", () => {
    const service = functionService();
    expect(service.fields.get("remoteBuild")).toBe("false");
    const text = readFileSync(join(root, "azure.yaml"), "utf8");
    expect(text).toMatch(/^\s+prepackage:\s*$/m);
    expect(text).toMatch(/run:\s*npm run build\s*$/m);
    expect(text).toMatch(/^infra:\s*\n(?:\s{2}.*\n)*?\s{2}path:\s*infra\s*$/m);
    const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main: string; scripts: Record<string, string> };
    expect(packageJson.main).toBe("dist/functions/main.js");
    expect(packageJson.scripts.build).toBeDefined();
  });
});

describe("infra/build.mjs", () => {
  it("without Bicep on PATH says so in one line and exits 0", () => {
    const result = spawnSync(process.execPath, [join(infraDir, "build.mjs")], { env: { PATH: "" }, encoding: "utf8" });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Bicep is not installed.*not compiled/);
  });

  it.skipIf(process.platform === "win32")("with bicep on PATH compiles main.bicep to stdout and exits with bicep's status", () => {
    const bin = mkdtempSync(join(tmpdir(), "fake-bicep-"));
    try {
      const argsFile = join(bin, "args");
      writeFileSync(join(bin, "bicep"), `#!/bin/sh\necho "$@" > "${argsFile}"\nexit 3\n`);
      chmodSync(join(bin, "bicep"), 0o755);
      const result = spawnSync(process.execPath, [join(infraDir, "build.mjs")], { env: { PATH: bin }, encoding: "utf8" });
      expect(result.status).toBe(3);
      expect(readFileSync(argsFile, "utf8").trim()).toBe(`build ${join(infraDir, "main.bicep")} --stdout`);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
