import { describe, it, expect } from "vitest";
import { ConfigError, loadConfig, requireStorage, type AppConfig } from "../../../src/config/config.js";

/** Runs loadConfig and returns the ConfigError it throws; fails the test when it does not throw one. */
function configErrorOf(environment: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(environment)}`);
}

describe("loadConfig defaults", () => {
  it("uses the documented defaults for an empty environment", () => {
    const config = loadConfig({});
    expect(config.port).toBe(7071);
    expect(config.host).toBe("127.0.0.1");
    expect(config.logLevel).toBe("info");
    expect(config.http.maxBodyBytes).toBe(1048576);
    expect(config.http.shutdownGraceMs).toBe(10_000);
    expect(config.memory).toEqual({ redisUrl: undefined, maxMessages: 50, ttlSeconds: 604800, keyPrefix: "mem:" });
    expect(config.audit.tableName).toBe("auditlog");
    expect(config.plugins.defaultTimeoutMs).toBe(5000);
    expect(config.storage).toBeUndefined();
    expect(config.azure.clientId).toBeUndefined();
    expect(typeof config.version).toBe("string");
    expect(config.version.length).toBeGreaterThan(0);
  });

  it("treats empty strings as unset", () => {
    const empty = Object.fromEntries(
      [
        "PORT",
        "HOST",
        "LOG_LEVEL",
        "MAX_BODY_BYTES",
        "REDIS_URL",
        "SESSION_MEMORY_MAX_MESSAGES",
        "SESSION_MEMORY_TTL_SECONDS",
        "SESSION_MEMORY_KEY_PREFIX",
        "STORAGE_CONNECTION_STRING",
        "STORAGE_ACCOUNT_NAME",
        "STORAGE_TABLE_ENDPOINT",
        "STORAGE_BLOB_ENDPOINT",
        "AZURE_CLIENT_ID",
        "AUDIT_TABLE_NAME",
        "PLUGIN_DEFAULT_TIMEOUT_MS",
      ].map((name) => [name, ""]),
    );
    expect(loadConfig(empty)).toEqual(loadConfig({}));
  });

  it("reads valid settings", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "0.0.0.0",
      AUTH_MODE: "none",
      LOG_LEVEL: "debug",
      MAX_BODY_BYTES: "2048",
      REDIS_URL: "rediss://cache.example:6380",
      SESSION_MEMORY_MAX_MESSAGES: "10",
      SESSION_MEMORY_TTL_SECONDS: "60",
      SESSION_MEMORY_KEY_PREFIX: "t:",
      AZURE_CLIENT_ID: "00000000-0000-0000-0000-000000000abc",
      AUDIT_TABLE_NAME: "Audit2",
      PLUGIN_DEFAULT_TIMEOUT_MS: "100",
    });
    expect(config.port).toBe(8080);
    expect(config.host).toBe("0.0.0.0");
    expect(config.logLevel).toBe("debug");
    expect(config.http.maxBodyBytes).toBe(2048);
    expect(config.memory).toEqual({ redisUrl: "rediss://cache.example:6380", maxMessages: 10, ttlSeconds: 60, keyPrefix: "t:" });
    expect(config.azure.clientId).toBe("00000000-0000-0000-0000-000000000abc");
    expect(config.audit.tableName).toBe("Audit2");
    expect(config.plugins.defaultTimeoutMs).toBe(100);
  });

  it("accepts a shutdown grace of 0: cut whatever runs at once", () => {
    expect(loadConfig({ SHUTDOWN_GRACE_MS: "0" }).http.shutdownGraceMs).toBe(0);
  });
});

describe("loadConfig rejects bad settings", () => {
  it.each<[string, string]>([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "80.5"],
    ["LOG_LEVEL", "loud"],
    ["REDIS_URL", "http://x"],
    ["STORAGE_ACCOUNT_NAME", "Bad_Name"],
    ["AZURE_CLIENT_ID", "nope"],
    ["AUDIT_TABLE_NAME", "1x"],
    ["MAX_BODY_BYTES", "10"],
    ["HOST", "example.com"],
    ["STORAGE_TABLE_ENDPOINT", "ftp://x"],
    ["SHUTDOWN_GRACE_MS", "-1"],
    ["SHUTDOWN_GRACE_MS", "120001"],
  ])("%s=%s gives a ConfigError naming the setting", (name, value) => {
    // An explicit blob endpoint keeps the table endpoint case about the table endpoint alone.
    const error = configErrorOf({
      [name]: value,
      STORAGE_BLOB_ENDPOINT: "https://acct.blob.core.windows.net",
      STORAGE_QUEUE_ENDPOINT: "https://acct.queue.core.windows.net",
    });
    expect(error.name).toBe("ConfigError");
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(name);
    expect(error.message).toContain(name);
  });

  it("names every bad setting in one error", () => {
    const error = configErrorOf({ PORT: "abc", LOG_LEVEL: "loud", AUDIT_TABLE_NAME: "1x", MAX_BODY_BYTES: "10" });
    expect(error.problems.length).toBe(4);
    for (const name of ["PORT", "LOG_LEVEL", "AUDIT_TABLE_NAME", "MAX_BODY_BYTES"]) {
      expect(error.message).toContain(name);
      expect(error.problems.some((p) => p.includes(name))).toBe(true);
    }
  });

  it("words the rules that carry no message of their own as zod does, in English", () => {
    expect(configErrorOf({ SESSION_MEMORY_KEY_PREFIX: "x".repeat(65) }).problems).toEqual([
      "SESSION_MEMORY_KEY_PREFIX: Too big: expected string to have <=64 characters",
    ]);
    expect(configErrorOf({ PLUGIN_POLICY: '{"shell":{"roles":[1]}}' }).problems).toEqual([
      "PLUGIN_POLICY shell.roles.0: Invalid input: expected string, received number",
    ]);
  });

  it("never echoes a malformed REDIS_URL value", () => {
    const error = configErrorOf({ REDIS_URL: "http://user:s3cret@host" });
    expect(error.message).toContain("REDIS_URL");
    expect(error.message).not.toContain("s3cret");
    expect(error.problems.join("\n")).not.toContain("s3cret");
    expect(error.message).not.toContain("user:");
  });

  it("never echoes a whitespace-only secret setting", () => {
    const error = configErrorOf({ STORAGE_CONNECTION_STRING: "   " });
    expect(error.message).toContain("STORAGE_CONNECTION_STRING");
  });
});

describe("loadConfig storage", () => {
  it("uses a connection string when STORAGE_CONNECTION_STRING is set", () => {
    const config = loadConfig({ STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" });
    expect(config.storage).toEqual({ kind: "connectionString", connectionString: "UseDevelopmentStorage=true" });
  });

  it("derives identity endpoints from STORAGE_ACCOUNT_NAME", () => {
    const config = loadConfig({ STORAGE_ACCOUNT_NAME: "acct" });
    expect(config.storage).toEqual({
      kind: "identity",
      tableEndpoint: "https://acct.table.core.windows.net",
      blobEndpoint: "https://acct.blob.core.windows.net",
      queueEndpoint: "https://acct.queue.core.windows.net",
    });
  });

  it("lets explicit endpoints override the derived ones", () => {
    const config = loadConfig({
      STORAGE_ACCOUNT_NAME: "acct",
      STORAGE_TABLE_ENDPOINT: "https://tables.example/",
    });
    expect(config.storage).toEqual({
      kind: "identity",
      tableEndpoint: "https://tables.example/",
      blobEndpoint: "https://acct.blob.core.windows.net",
      queueEndpoint: "https://acct.queue.core.windows.net",
    });
    const both = loadConfig({
      STORAGE_ACCOUNT_NAME: "acct",
      STORAGE_TABLE_ENDPOINT: "https://tables.example/",
      STORAGE_BLOB_ENDPOINT: "https://blobs.example/",
    });
    expect(both.storage).toEqual({
      kind: "identity",
      tableEndpoint: "https://tables.example/",
      blobEndpoint: "https://blobs.example/",
      queueEndpoint: "https://acct.queue.core.windows.net",
    });
  });

  it("never builds an endpoint for an account named 'undefined' when only STORAGE_TABLE_ENDPOINT is set", () => {
    // Either the combination is rejected, or every endpoint it yields is a real one.
    let config: AppConfig;
    try {
      config = loadConfig({ STORAGE_TABLE_ENDPOINT: "https://tables.example/" });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return;
    }
    expect(config.storage?.kind).toBe("identity");
    if (config.storage?.kind !== "identity") return;
    expect(config.storage.tableEndpoint).toBe("https://tables.example/");
    expect(config.storage.blobEndpoint).not.toContain("undefined");
  });

  it("rejects a connection string combined with an account name, naming STORAGE_CONNECTION_STRING", () => {
    const error = configErrorOf({ STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true", STORAGE_ACCOUNT_NAME: "acct" });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain("STORAGE_CONNECTION_STRING");
    expect(error.message).not.toContain("UseDevelopmentStorage");
  });
});

describe("requireStorage", () => {
  it("throws a ConfigError when no storage is configured", () => {
    const config = loadConfig({});
    expect(() => requireStorage(config)).toThrow(ConfigError);
    try {
      requireStorage(config);
    } catch (error) {
      expect((error as ConfigError).message).toContain("STORAGE_CONNECTION_STRING");
    }
  });

  it("returns the configured storage", () => {
    const config = loadConfig({ STORAGE_ACCOUNT_NAME: "acct" });
    expect(requireStorage(config)).toBe(config.storage);
  });
});

describe("loadConfig language model", () => {
  it("has none by default, and picks the provider from what is configured", () => {
    expect(loadConfig({}).llm).toEqual({ provider: "none" });
    expect(loadConfig({ OLLAMA_BASE_URL: "http://localhost:11434" }).llm).toMatchObject({
      provider: "ollama",
      baseUrl: "http://localhost:11434",
      model: "llama3.1",
    });
    expect(
      loadConfig({ OLLAMA_BASE_URL: "http://localhost:11434", AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com", AZURE_OPENAI_DEPLOYMENT: "d" }).llm,
    ).toMatchObject({ provider: "azure-openai", endpoint: "https://r.openai.azure.com", deployment: "d", apiVersion: "2024-10-21", apiKey: undefined });
    expect(loadConfig({ LLM_PROVIDER: "none", OLLAMA_BASE_URL: "http://localhost:11434" }).llm).toEqual({ provider: "none" });
  });

  it("names what an explicit provider is missing", () => {
    expect(() => loadConfig({ LLM_PROVIDER: "ollama" })).toThrow(/OLLAMA_BASE_URL must be set/);
    expect(() => loadConfig({ AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" })).toThrow(/AZURE_OPENAI_DEPLOYMENT must be set/);
    expect(() => loadConfig({ LLM_PROVIDER: "openai" })).toThrow(/LLM_PROVIDER must be ollama, azure-openai or none/);
  });

  it("names a malformed endpoint without echoing its value", () => {
    try {
      loadConfig({ AZURE_OPENAI_ENDPOINT: "nope-secret-host", AZURE_OPENAI_DEPLOYMENT: "d" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain("AZURE_OPENAI_ENDPOINT must be an http(s) URL");
      expect(String(error)).not.toContain("nope-secret-host");
    }
  });

  it("gives a principal half of a plugin's concurrency by default where callers are many, all of it with AUTH_MODE=none", () => {
    const jwt = { AUTH_MODE: "jwt", AUTH_JWT_ISSUER: "https://login.example/t/v2.0", AUTH_JWT_AUDIENCE: "api://x" };
    expect(loadConfig(jwt).plugins).toMatchObject({ maxConcurrency: 16, maxConcurrencyPerPrincipal: 8 });
    expect(loadConfig({ ...jwt, PLUGIN_MAX_CONCURRENCY: "5" }).plugins.maxConcurrencyPerPrincipal).toBe(3);
    expect(loadConfig({ ...jwt, PLUGIN_MAX_CONCURRENCY: "1" }).plugins.maxConcurrencyPerPrincipal).toBe(1);
    expect(loadConfig({ PLUGIN_MAX_CONCURRENCY: "6" }).plugins.maxConcurrencyPerPrincipal).toBe(6);
    expect(loadConfig({ ...jwt, PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL: "2" }).plugins.maxConcurrencyPerPrincipal).toBe(2);
    expect(configErrorOf({ PLUGIN_MAX_CONCURRENCY: "4", PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL: "5" }).problems).toEqual([
      "PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL must be at most PLUGIN_MAX_CONCURRENCY (4)",
    ]);
    expect(configErrorOf({ PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL: "0" }).problems[0]).toContain("PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL must be at least 1");
  });

  it("bounds the chat deadline below Azure's 230 s", () => {
    expect(loadConfig({}).chat.timeoutMs).toBe(200_000);
    expect(() => loadConfig({ CHAT_TIMEOUT_MS: "300000" })).toThrow(/CHAT_TIMEOUT_MS must be at most 225000/);
  });
});

describe("loadConfig Redis with Microsoft Entra ID", () => {
  it("reads the host, port, TLS and the identity's object id; port 10000 (Azure Managed Redis) and TLS by default", () => {
    expect(loadConfig({ REDIS_HOST: "redis-abc.swedencentral.redis.azure.net", REDIS_USERNAME: "0000-oid" }).memory.redisEntra).toEqual({
      host: "redis-abc.swedencentral.redis.azure.net",
      port: 10000,
      tls: true,
      username: "0000-oid",
    });
    expect(loadConfig({}).memory.redisEntra).toBeUndefined();
  });

  it("still reaches Azure Cache for Redis with its host name and REDIS_PORT 6380", () => {
    expect(loadConfig({ REDIS_HOST: "cache.redis.cache.windows.net", REDIS_PORT: "6380", REDIS_USERNAME: "0000-oid" }).memory.redisEntra).toEqual({
      host: "cache.redis.cache.windows.net",
      port: 6380,
      tls: true,
      username: "0000-oid",
    });
  });

  it("refuses a REDIS_HOST that is a URL rather than a host name, naming the Azure Managed Redis form", () => {
    expect(() => loadConfig({ REDIS_HOST: "rediss://redis-abc.swedencentral.redis.azure.net:10000", REDIS_USERNAME: "u" })).toThrow(
      /REDIS_HOST must be a host name such as <name>\.<region>\.redis\.azure\.net/,
    );
  });

  it("refuses REDIS_HOST without REDIS_USERNAME, and together with REDIS_URL", () => {
    expect(() => loadConfig({ REDIS_HOST: "cache.example" })).toThrow(/REDIS_USERNAME .* must be set with REDIS_HOST/);
    expect(() => loadConfig({ REDIS_HOST: "cache.example", REDIS_USERNAME: "u", REDIS_URL: "redis://localhost" })).toThrow(/cannot be combined with REDIS_URL/);
  });
});

describe("CORS_ALLOWED_ORIGINS", () => {
  it("reads a comma-separated list and the JSON array the Functions platform writes, as origins", () => {
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: "https://a.example, http://localhost:3000/" }).http.corsAllowedOrigins).toEqual([
      "https://a.example",
      "http://localhost:3000",
    ]);
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: '["https://a.example","https://b.example:8443"]' }).http.corsAllowedOrigins).toEqual([
      "https://a.example",
      "https://b.example:8443",
    ]);
  });

  it("refuses an entry with a path, or that is no URL", () => {
    expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: "https://a.example/app" })).toThrow(/CORS_ALLOWED_ORIGINS/);
    expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: '["*"]' })).toThrow(/not valid: \*/);
  });
});

describe("telemetry settings", () => {
  const connectionString = "InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/";
  const clientId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

  it("is off without APPLICATIONINSIGHTS_CONNECTION_STRING", () => {
    expect(loadConfig({}).telemetry).toBeUndefined();
  });

  it("authenticates with the managed identity named in APPLICATIONINSIGHTS_AUTHENTICATION_STRING, as infra/ sets it", () => {
    const config = loadConfig({
      APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${clientId};Authorization=AAD`,
    });
    expect(config.telemetry).toEqual({ connectionString, authentication: { kind: "managedIdentity", clientId } });
  });

  it("takes AZURE_CLIENT_ID when the authentication string names no client, and the instrumentation key without one", () => {
    const aad = loadConfig({
      APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD",
      AZURE_CLIENT_ID: clientId,
    });
    expect(aad.telemetry?.authentication).toEqual({ kind: "managedIdentity", clientId });
    expect(loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }).telemetry?.authentication).toEqual({ kind: "instrumentationKey" });
  });

  it("refuses a malformed connection or authentication string without echoing it", () => {
    expect(() => loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: "secret-looking-value" })).toThrow(
      /APPLICATIONINSIGHTS_CONNECTION_STRING must be an Application Insights connection string/,
    );
    expect(() => loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: "secret-looking-value" })).not.toThrow(/secret-looking-value/);
    expect(() =>
      loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=Key" }),
    ).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be Authorization=AAD/);
  });
});

describe("loadConfig public address", () => {
  it("is the local host's own address by default: http://HOST:PORT, a wildcard HOST as loopback", () => {
    expect(loadConfig({}).http.publicBaseUrl).toBe("http://127.0.0.1:7071");
    expect(loadConfig({ HOST: "0.0.0.0", PORT: "8080", AUTH_MODE: "none" }).http.publicBaseUrl).toBe("http://127.0.0.1:8080");
    expect(loadConfig({ HOST: "::1" }).http.publicBaseUrl).toBe("http://[::1]:7071");
  });

  it("is the site's https address in Azure (WEBSITE_HOSTNAME), not under Core Tools, which sets WEBSITE_HOSTNAME to localhost", () => {
    const azure = { WEBSITE_INSTANCE_ID: "i", AUTH_MODE: "easyauth", WEBSITE_AUTH_ENABLED: "True", WEBSITE_HOSTNAME: "App.azurewebsites.net" };
    expect(loadConfig(azure).http.publicBaseUrl).toBe("https://app.azurewebsites.net");
    expect(loadConfig({ WEBSITE_HOSTNAME: "localhost:7071" }).http.publicBaseUrl).toBe("http://127.0.0.1:7071");
  });

  it("is PUBLIC_BASE_URL when set, which must be an origin", () => {
    expect(loadConfig({ PUBLIC_BASE_URL: "https://api.example.com", WEBSITE_HOSTNAME: "app.azurewebsites.net" }).http.publicBaseUrl).toBe(
      "https://api.example.com",
    );
    expect(configErrorOf({ PUBLIC_BASE_URL: "https://api.example.com/api" }).problems).toEqual([
      expect.stringMatching(/^PUBLIC_BASE_URL must be scheme:\/\/host\[:port\]/),
    ]);
  });

  it("reads AUTH_JWT_SCOPES, the scopes MCP clients are told to ask for", () => {
    const auth = loadConfig({
      AUTH_MODE: "jwt",
      AUTH_JWT_ISSUER: "https://issuer.example/v2.0",
      AUTH_JWT_AUDIENCE: "api://x",
      AUTH_JWT_SCOPES: "api://x/user_impersonation",
    }).auth;
    expect(auth).toMatchObject({ mode: "jwt", scopes: ["api://x/user_impersonation"] });
    expect(configErrorOf({ AUTH_JWT_SCOPES: 'a "quoted" scope' }).problems).toEqual([expect.stringMatching(/^AUTH_JWT_SCOPES: each scope/)]);
  });
});
