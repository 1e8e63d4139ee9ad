// zod/mini, not zod: the Functions entry loads and checks the configuration at import, so whatever this
// module imports every new instance parses and evaluates before it serves anything. zod/mini's
// functions leave out the parts of zod a schema does not use (the classic API cannot be split),
// and the same checks run on the same core as the rest of the app's zod schemas.
import * as z from "zod/mini";
import english from "zod/v4/locales/en.js";
import packageJson from "../../package.json" with { type: "json" };
import { channels, type Channel } from "../auth/channel.js";

/** Settings whose values must never appear in an error message or a log line. */
const secretSettings = new Set([
  "STORAGE_CONNECTION_STRING",
  "REDIS_URL",
  "HF_TOKEN",
  "AZURE_OPENAI_API_KEY",
  // Not a password, but its instrumentation key lets anyone write telemetry into the component.
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
]);

/**
 * zod's English messages for the issues that carry none of their own. Classic zod installs them
 * globally when its first schema is built, zod/mini never does; given to each parse here, so the
 * messages do not depend on whether some other module has loaded classic zod yet.
 */
const messages = { error: english().localeError };

// Building a schema costs more at import than checking a value with it (unoptimised code that runs
// once), and most settings are unset: each setting's schema is built when the setting is first found
// set (z.lazy), and an unset one takes its default without it. loadConfig hands the schema only the
// settings that are set (settingsOf), an empty value counting as unset.

/** `fallback` when the setting is unset; otherwise the value must pass the schema `build` returns. */
function setting<T extends z.core.$ZodType>(fallback: z.core.util.NoUndefined<z.output<T>>, build: () => T) {
  return z._default(z.lazy(build), fallback);
}

/** Undefined when the setting is unset; otherwise the value must pass the schema `build` returns. */
function optionalSetting<T>(build: () => z.ZodMiniType<T>): z.ZodMiniType<T | undefined> {
  // z.optional would look into the lazy schema (and so build it) to see whether it is optional itself.
  return z._default(z.lazy(build), undefined as never);
}

const nonBlankText = () => z.string().check(z.trim(), z.minLength(1));
const optionalText = optionalSetting(nonBlankText);

/** An optional text setting that, when set, must pass `valid`. */
function optionalTextWhere(valid: (text: string) => boolean, message: string) {
  return optionalSetting(() => nonBlankText().check(z.refine(valid, { message })));
}

const listenAddressPattern = /^[0-9a-fA-F.:]+$|^localhost$/;

/** A comma-separated list; every item must pass `valid`. Unset is the empty list. */
function commaList(name: string, valid: (item: string) => boolean, rule: string, options: { jsonArray?: boolean } = {}) {
  return setting([], () =>
    z.pipe(
      z.transform((v: string) => (options.jsonArray ? jsonArrayItems(v) : undefined) ?? v.split(",").map((item) => item.trim()).filter((item) => item !== "")),
      z.array(z.string()).check(
        z.superRefine((items, ctx) => {
          const bad = items.filter((item) => !valid(item));
          if (bad.length > 0) ctx.addIssue({ code: "custom", message: `${name}: ${rule}; not valid: ${bad.join(", ")}` });
        }),
      ),
    ),
  );
}

/** `["a","b"]` as its string items; undefined when the text is not a JSON array of strings. */
function jsonArrayItems(text: string): string[] | undefined {
  if (!text.trim().startsWith("[")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((item) => typeof item === "string") ? value.map((item) => item.trim()).filter((item) => item !== "") : undefined;
  } catch {
    return undefined;
  }
}

/** How long a run waiting for approval may wait when its rule says nothing: 15 minutes. */
export const defaultApprovalTtlSeconds = 900;
const maxApprovalTtlSeconds = 7 * 24 * 3600;

const roleName = () => z.string().check(z.minLength(1), z.maxLength(200));

/**
 * One plugin's entry of PLUGIN_POLICY: the channels it may run on (all when omitted), the roles a
 * caller needs (any when omitted), and `approval`: the roles of whom one must approve each run
 * first, and how long a request waits for that (defaultApprovalTtlSeconds when omitted).
 */
const pluginPolicySchema = z.lazy(() =>
  z.record(
    z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, "keys must be plugin names")),
    z.strictObject({
      channels: z.optional(z.array(z.enum(channels, { error: `channels are ${channels.join(", ")}` }))),
      roles: z.optional(z.array(roleName())),
      approval: z.optional(
        z.strictObject({
          roles: z
            .array(roleName(), { error: 'must list the roles whose members approve the runs, such as ["admin"]' })
            .check(z.minLength(1, "must name at least one role whose members approve the runs")),
          ttlSeconds: z._default(
            z.number({ error: "must be a number of seconds" }).check(
              z.int("must be a whole number of seconds"),
              z.gte(1, "must be at least 1 second"),
              z.lte(maxApprovalTtlSeconds, `must be at most ${maxApprovalTtlSeconds} seconds (7 days)`),
            ),
            defaultApprovalTtlSeconds,
          ),
        }),
      ),
    }),
  ),
);

/** Whose approval a plugin's runs wait for, and for how long. */
export interface ApprovalRuleConfig {
  readonly roles: readonly string[];
  readonly ttlSeconds: number;
}

export type PluginPolicyConfig = Readonly<
  Record<string, { readonly channels?: readonly Channel[]; readonly roles?: readonly string[]; readonly approval?: ApprovalRuleConfig }>
>;

/** A whole number between `min` and `max`; `fallback` when unset. */
function integer(name: string, min: number, max: number, fallback: number) {
  return setting(fallback, () => wholeNumber(name, min, max));
}

/** A whole number from `min` to `max`, in a string; each message names the setting. */
function wholeNumber(name: string, min: number, max: number, minRule = `${name} must be at least ${min}`) {
  return z.coerce
    .number({ error: `${name} must be a whole number` })
    .check(z.int(`${name} must be a whole number`), z.gte(min, minRule), z.lte(max, `${name} must be at most ${max}`));
}

/** A name of an Azure queue or blob container: 3-63 lowercase letters, digits and single hyphens. */
function azureLowercaseName(name: string, fallback: string, kind: string) {
  return setting(fallback, () => z.string().check(z.regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, `${name} must be a ${kind} name: 3-63 lowercase letters, digits and single hyphens`)));
}

/** An Azure table name: 3-63 letters and digits, starting with a letter. */
function tableName(name: string, fallback: string) {
  return setting(fallback, () => z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, `${name} must be 3-63 letters and digits, starting with a letter`)));
}

/** A prefix of the keys a store writes (session memory, result cache, rate limits): at most 64 characters. */
function keyPrefix(fallback: string) {
  return setting(fallback, () => z.string().check(z.maxLength(64)));
}

const defaultSystemPrompt =
  "You are the assistant of a chat application. Answer briefly and accurately. When a tool can give an exact answer " +
  "(arithmetic, the session's memory, a command), call it instead of guessing, and base your answer on its result.";

/** PLUGIN_POLICY's JSON, checked against pluginPolicySchema; each problem becomes an issue of the setting. */
function pluginPolicyFromJson(text: string, ctx: z.core.ParsePayload): PluginPolicyConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.issues.push({ code: "custom", message: 'PLUGIN_POLICY must be JSON such as {"shell":{"roles":["admin"],"channels":["execute"]}}', input: text });
    return z.NEVER;
  }
  const parsed = pluginPolicySchema.safeParse(json, messages);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.issues.push({ code: "custom", message: `PLUGIN_POLICY ${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`, input: text });
    }
    return z.NEVER;
  }
  return parsed.data;
}

const environmentSchema = z
  .object({
    PORT: integer("PORT", 0, 65535, 7071),
    HOST: setting("127.0.0.1", () => z.string().check(z.regex(listenAddressPattern, "HOST must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0"))),
    LOG_LEVEL: setting("info", () => z.enum(["debug", "info", "warn", "error"], { error: "LOG_LEVEL must be one of debug, info, warn, error" })),
    MAX_BODY_BYTES: integer("MAX_BODY_BYTES", 1024, 100 * 1024 * 1024, 1024 * 1024),
    REDIS_URL: optionalTextWhere((v) => /^rediss?:\/\/[^\s]+$/.test(v), "REDIS_URL must be a redis:// or rediss:// URL"),
    SESSION_MEMORY_MAX_MESSAGES: integer("SESSION_MEMORY_MAX_MESSAGES", 1, 10_000, 50),
    SESSION_MEMORY_TTL_SECONDS: integer("SESSION_MEMORY_TTL_SECONDS", 1, 365 * 24 * 3600, 7 * 24 * 3600),
    SESSION_MEMORY_KEY_PREFIX: keyPrefix("mem:"),
    STORAGE_CONNECTION_STRING: optionalText,
    STORAGE_ACCOUNT_NAME: optionalTextWhere((v) => /^[a-z0-9]{3,24}$/.test(v), "STORAGE_ACCOUNT_NAME must be 3-24 lowercase letters and digits"),
    STORAGE_TABLE_ENDPOINT: optionalTextWhere(isHttpUrl, "STORAGE_TABLE_ENDPOINT must be an http(s) URL"),
    STORAGE_BLOB_ENDPOINT: optionalTextWhere(isHttpUrl, "STORAGE_BLOB_ENDPOINT must be an http(s) URL"),
    STORAGE_QUEUE_ENDPOINT: optionalTextWhere(isHttpUrl, "STORAGE_QUEUE_ENDPOINT must be an http(s) URL"),
    PLUGIN_RUNS_QUEUE: azureLowercaseName("PLUGIN_RUNS_QUEUE", "plugin-runs", "queue"),
    PLUGIN_RESULTS_CONTAINER: azureLowercaseName("PLUGIN_RESULTS_CONTAINER", "plugin-results", "container"),
    RUNS_TABLE_NAME: tableName("RUNS_TABLE_NAME", "pluginruns"),
    QUEUE_POLL_INTERVAL_MS: integer("QUEUE_POLL_INTERVAL_MS", 50, 60_000, 1000),
    QUEUE_MAX_DEQUEUE_COUNT: integer("QUEUE_MAX_DEQUEUE_COUNT", 1, 100, 5),
    REDIS_HOST: optionalTextWhere((v) => /^[A-Za-z0-9.-]+$/.test(v), "REDIS_HOST must be a host name such as <name>.<region>.redis.azure.net"),
    // 10000: the TLS port of an Azure Managed Redis database. Azure Cache for Redis (retiring) listens on 6380.
    REDIS_PORT: integer("REDIS_PORT", 1, 65535, 10000),
    REDIS_TLS: setting(true, () =>
      z.pipe(
        z.enum(["true", "false"], { error: "REDIS_TLS must be true or false" }),
        z.transform((v) => v === "true"),
      ),
    ),
    REDIS_USERNAME: optionalText,
    AZURE_CLIENT_ID: optionalTextWhere((v) => /^[0-9a-f-]{36}$/i.test(v), "AZURE_CLIENT_ID must be the client id (a GUID) of the user-assigned managed identity"),
    AUDIT_TABLE_NAME: tableName("AUDIT_TABLE_NAME", "auditlog"),
    PLUGIN_DEFAULT_TIMEOUT_MS: integer("PLUGIN_DEFAULT_TIMEOUT_MS", 10, 10 * 60 * 1000, 5000),
    PLUGIN_MAX_CONCURRENCY: integer("PLUGIN_MAX_CONCURRENCY", 1, 10_000, 16),
    // Unset: derived from PLUGIN_MAX_CONCURRENCY and AUTH_MODE (pluginShareOf).
    PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL: optionalSetting(() => wholeNumber("PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL", 1, 10_000)),
    PLUGIN_MAX_QUEUE: integer("PLUGIN_MAX_QUEUE", 0, 100_000, 64),
    RESULT_CACHE_KEY_PREFIX: keyPrefix("cache:"),
    SHELL_PLUGIN_ALLOWED_COMMANDS: setting([], () =>
      z.pipe(
        z.transform((v: string) => v.split(",").map((c) => c.trim()).filter((c) => c !== "")),
        z.array(z.string().check(z.regex(/^[A-Za-z0-9._+-]+$/, "SHELL_PLUGIN_ALLOWED_COMMANDS must list executable names (no paths), separated by commas"))),
      ),
    ),
    SHELL_PLUGIN_TIMEOUT_MS: integer("SHELL_PLUGIN_TIMEOUT_MS", 100, 5 * 60 * 1000, 10_000),
    SHELL_PLUGIN_MAX_OUTPUT_BYTES: integer("SHELL_PLUGIN_MAX_OUTPUT_BYTES", 1024, 10 * 1024 * 1024, 64 * 1024),
    HF_TOKEN: optionalText,
    HF_ENDPOINT: optionalTextWhere(isHttpUrl, "HF_ENDPOINT must be an http(s) URL"),
    HF_MODEL: setting("distilbert/distilbert-base-uncased-finetuned-sst-2-english", () =>
      z.string().check(z.regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, "HF_MODEL must be a model id such as owner/name")),
    ),
    HF_TIMEOUT_MS: integer("HF_TIMEOUT_MS", 100, 5 * 60 * 1000, 20_000),
    HF_MAX_RETRIES: integer("HF_MAX_RETRIES", 0, 10, 3),
    LLM_PROVIDER: optionalSetting(() => z.enum(["ollama", "azure-openai", "none"], { error: "LLM_PROVIDER must be ollama, azure-openai or none" })),
    OLLAMA_BASE_URL: optionalTextWhere(isHttpUrl, "OLLAMA_BASE_URL must be an http(s) URL"),
    OLLAMA_MODEL: setting("llama3.1", () => z.string().check(z.minLength(1), z.maxLength(200))),
    AZURE_OPENAI_ENDPOINT: optionalTextWhere(isHttpUrl, "AZURE_OPENAI_ENDPOINT must be an http(s) URL such as https://<resource>.openai.azure.com"),
    AZURE_OPENAI_DEPLOYMENT: optionalText,
    AZURE_OPENAI_API_VERSION: setting("2024-10-21", () => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "AZURE_OPENAI_API_VERSION must look like 2024-10-21"))),
    AZURE_OPENAI_API_KEY: optionalText,
    LLM_TIMEOUT_MS: integer("LLM_TIMEOUT_MS", 100, 10 * 60 * 1000, 60_000),
    LLM_MAX_RETRIES: integer("LLM_MAX_RETRIES", 0, 10, 2),
    CHAT_SYSTEM_PROMPT: setting(defaultSystemPrompt, () => z.string().check(z.maxLength(20_000, "CHAT_SYSTEM_PROMPT must be at most 20000 characters"))),
    CHAT_HISTORY_MAX_MESSAGES: integer("CHAT_HISTORY_MAX_MESSAGES", 0, 1000, 20),
    CHAT_HISTORY_MAX_CHARS: integer("CHAT_HISTORY_MAX_CHARS", 0, 1_000_000, 16_000),
    CHAT_MAX_TOOL_STEPS: integer("CHAT_MAX_TOOL_STEPS", 1, 50, 5),
    // Azure ends an HTTP-triggered function at 230 s; the answer must come before that.
    CHAT_TIMEOUT_MS: integer("CHAT_TIMEOUT_MS", 1000, 225_000, 200_000),
    AUTH_MODE: optionalSetting(() => z.enum(["none", "jwt", "easyauth"], { error: "AUTH_MODE must be none, jwt or easyauth" })),
    AUTH_JWT_ISSUER: commaList("AUTH_JWT_ISSUER", isHttpUrl, "each issuer must be an https URL such as https://login.microsoftonline.com/<tenant>/v2.0"),
    AUTH_JWT_AUDIENCE: commaList("AUTH_JWT_AUDIENCE", (v) => /^\S{1,400}$/.test(v), "each audience must be a client id or an App ID URI without spaces"),
    AUTH_JWT_JWKS_URI: optionalTextWhere(isHttpUrl, "AUTH_JWT_JWKS_URI must be an http(s) URL"),
    AUTH_JWT_CLOCK_SKEW_SECONDS: integer("AUTH_JWT_CLOCK_SKEW_SECONDS", 0, 600, 60),
    // What MCP clients ask the issuer for (Entra: api://<client id>/user_impersonation): scopes_supported of the MCP endpoint's metadata.
    AUTH_JWT_SCOPES: commaList("AUTH_JWT_SCOPES", (v) => /^[\x21\x23-\x5B\x5D-\x7E]{1,400}$/.test(v), "each scope must be a scope name without spaces or quotes, such as api://<client id>/user_impersonation"),
    // The address clients use (scheme://host[:port]): the MCP endpoint's resource identifier, never taken from a request's Host.
    PUBLIC_BASE_URL: optionalTextWhere(isOrigin, "PUBLIC_BASE_URL must be scheme://host[:port] with no path, such as https://api.example.com"),
    // Set by App Service when App Service Authentication is on; only then are x-ms-client-principal headers the platform's own.
    WEBSITE_AUTH_ENABLED: optionalText,
    // Set by App Service on every instance: the app runs in Azure.
    WEBSITE_INSTANCE_ID: optionalText,
    // Set by App Service: the app's default host name (<app>.azurewebsites.net), the public address unless PUBLIC_BASE_URL says otherwise.
    WEBSITE_HOSTNAME: optionalTextWhere((v) => /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(v), "WEBSITE_HOSTNAME must be a host name"),
    HTTP_AUTH_LEVEL: setting("anonymous", () => z.enum(["anonymous", "function"], { error: "HTTP_AUTH_LEVEL must be anonymous or function" })),
    PLUGIN_POLICY: optionalSetting(() => z.pipe(nonBlankText(), z.transform(pluginPolicyFromJson))),
    RATE_LIMIT_PER_MINUTE: optionalSetting(() => wholeNumber("RATE_LIMIT_PER_MINUTE", 0, 1_000_000, "RATE_LIMIT_PER_MINUTE must be at least 0 (0 turns it off)")),
    RATE_LIMIT_KEY_PREFIX: keyPrefix("rate:"),
    // On Azure Functions the platform writes the site's CORS list here as a JSON array; locally it is a comma-separated list.
    CORS_ALLOWED_ORIGINS: commaList("CORS_ALLOWED_ORIGINS", isOrigin, "each origin must be scheme://host[:port] with no path, such as https://chat.example.com", { jsonArray: true }),
    ALLOWED_HOSTS: commaList("ALLOWED_HOSTS", (v) => /^[A-Za-z0-9.-]{1,253}$/.test(v), "each host must be a host name such as api.example.com (no port)"),
    REQUEST_TIMEOUT_MS: integer("REQUEST_TIMEOUT_MS", 1000, 10 * 60 * 1000, 30_000),
    // Bounded so that a stop always ends: a platform that sends SIGTERM follows with SIGKILL after its own wait.
    SHUTDOWN_GRACE_MS: integer("SHUTDOWN_GRACE_MS", 0, 120_000, 10_000),
    // Set by infra/ (and by the Functions platform when Application Insights is linked): turns telemetry on, in either host.
    APPLICATIONINSIGHTS_CONNECTION_STRING: optionalTextWhere(
      (v) => /(^|;)\s*InstrumentationKey=[^;]+/i.test(v),
      "APPLICATIONINSIGHTS_CONNECTION_STRING must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)",
    ),
    // `Authorization=AAD` (with `ClientId=<guid>` for a user-assigned identity): the exporter signs in with the managed identity.
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: optionalTextWhere(
      (v) => parseAuthenticationString(v) !== undefined,
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be Authorization=AAD, optionally with ClientId=<client id of the managed identity>",
    ),
  })
  .check(
    z.superRefine((env, ctx) => {
      if (env.REDIS_URL && env.REDIS_HOST) {
        ctx.addIssue({
          code: "custom",
          path: ["REDIS_HOST"],
          message: "REDIS_HOST (Microsoft Entra authentication) cannot be combined with REDIS_URL: use REDIS_URL locally, REDIS_HOST in Azure",
        });
      }
      if (env.REDIS_HOST && !env.REDIS_USERNAME) {
        ctx.addIssue({
          code: "custom",
          path: ["REDIS_USERNAME"],
          message: "REDIS_USERNAME (the object id of the managed identity) must be set with REDIS_HOST",
        });
      }
      const provider = env.LLM_PROVIDER;
      if (provider === "ollama" && !env.OLLAMA_BASE_URL) {
        ctx.addIssue({ code: "custom", path: ["OLLAMA_BASE_URL"], message: "OLLAMA_BASE_URL must be set when LLM_PROVIDER is ollama" });
      }
      if ((provider === "azure-openai" || env.AZURE_OPENAI_ENDPOINT) && provider !== "none" && provider !== "ollama") {
        for (const name of ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT"] as const) {
          if (!env[name]) ctx.addIssue({ code: "custom", path: [name], message: `${name} must be set to use Azure OpenAI` });
        }
      }
      for (const name of ["STORAGE_BLOB_ENDPOINT", "STORAGE_QUEUE_ENDPOINT"] as const) {
        if (env.STORAGE_TABLE_ENDPOINT && !env.STORAGE_ACCOUNT_NAME && !env[name]) {
          ctx.addIssue({ code: "custom", path: [name], message: `${name} (or STORAGE_ACCOUNT_NAME) must be set when STORAGE_TABLE_ENDPOINT is` });
        }
      }
      const share = env.PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL;
      if (share !== undefined && share > env.PLUGIN_MAX_CONCURRENCY) {
        ctx.addIssue({
          code: "custom",
          path: ["PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL"],
          message: `PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL must be at most PLUGIN_MAX_CONCURRENCY (${env.PLUGIN_MAX_CONCURRENCY})`,
        });
      }
      const mode = env.AUTH_MODE;
      if (mode === "none" && env.WEBSITE_INSTANCE_ID) {
        ctx.addIssue({ code: "custom", path: ["AUTH_MODE"], message: "AUTH_MODE none is for local development only; in Azure set jwt or easyauth" });
      }
      if (mode === undefined && env.WEBSITE_INSTANCE_ID) {
        ctx.addIssue({ code: "custom", path: ["AUTH_MODE"], message: "AUTH_MODE must be set in Azure: jwt (the app checks bearer tokens) or easyauth (App Service Authentication)" });
      }
      // zod runs this refinement on a HOST that failed its own rule too; that one is reported already.
      if (mode === undefined && listenAddressPattern.test(env.HOST) && !isLoopback(env.HOST)) {
        ctx.addIssue({
          code: "custom",
          path: ["AUTH_MODE"],
          message: `AUTH_MODE must be set when HOST (${env.HOST}) is not a loopback address: jwt or easyauth, or none to let every caller in as one principal`,
        });
      }
      if (mode === "jwt") {
        if (env.AUTH_JWT_ISSUER.length === 0) ctx.addIssue({ code: "custom", path: ["AUTH_JWT_ISSUER"], message: "AUTH_JWT_ISSUER must be set when AUTH_MODE is jwt" });
        if (env.AUTH_JWT_AUDIENCE.length === 0) ctx.addIssue({ code: "custom", path: ["AUTH_JWT_AUDIENCE"], message: "AUTH_JWT_AUDIENCE must be set when AUTH_MODE is jwt" });
      }
      if (mode === "easyauth" && env.WEBSITE_AUTH_ENABLED?.toLowerCase() !== "true") {
        ctx.addIssue({
          code: "custom",
          path: ["WEBSITE_AUTH_ENABLED"],
          message:
            "AUTH_MODE easyauth needs App Service Authentication in front of the app (WEBSITE_AUTH_ENABLED=True, set by the platform): only the platform strips forged x-ms-client-principal headers",
        });
      }
      if (env.STORAGE_CONNECTION_STRING && (env.STORAGE_ACCOUNT_NAME || env.STORAGE_TABLE_ENDPOINT)) {
        ctx.addIssue({
          code: "custom",
          path: ["STORAGE_CONNECTION_STRING"],
          message:
            "STORAGE_CONNECTION_STRING cannot be combined with STORAGE_ACCOUNT_NAME or STORAGE_TABLE_ENDPOINT: use the connection string for Azurite, the account for Azure",
        });
      }
    }),
  );

export type LlmConfig =
  | { readonly provider: "none" }
  | { readonly provider: "ollama"; readonly baseUrl: string; readonly model: string; readonly timeoutMs: number; readonly maxRetries: number }
  | {
      readonly provider: "azure-openai";
      readonly endpoint: string;
      readonly deployment: string;
      readonly apiVersion: string;
      /** For local use only; in Azure the Managed Identity gets a token instead. */
      readonly apiKey: string | undefined;
      readonly timeoutMs: number;
      readonly maxRetries: number;
    };

export type StorageConfig =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "identity"; tableEndpoint: string; blobEndpoint: string; queueEndpoint: string };

/** Redis reached with Microsoft Entra ID: an access token of the managed identity is the password. */
export interface RedisEntraConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The object (principal) id of the managed identity, as Redis's access policy assignment names it. */
  readonly username: string;
}

export type AuthConfig =
  /** Every caller is the one principal "anonymous": for the local host on loopback. */
  | { readonly mode: "none" }
  | {
      readonly mode: "jwt";
      readonly issuers: readonly string[];
      readonly audiences: readonly string[];
      /** Unset: each issuer's own, from its OpenID configuration. */
      readonly jwksUri: string | undefined;
      readonly clockSkewSeconds: number;
      /** The scopes clients request for a token of this API (AUTH_JWT_SCOPES), advertised to MCP clients; none when absent. */
      readonly scopes?: readonly string[];
    }
  /** App Service Authentication in front; the caller comes from x-ms-client-principal. */
  | { readonly mode: "easyauth" };

export interface AppConfig {
  readonly version: string;
  /** Where the local host listens (the Functions host chooses its own). */
  readonly port: number;
  readonly host: string;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly http: {
    readonly maxBodyBytes: number;
    /** The local host cuts a request whose headers and body have not arrived within this (408). */
    readonly requestTimeoutMs: number;
    /** On SIGTERM/SIGINT the local host lets requests in flight finish for this long before it cuts them. */
    readonly shutdownGraceMs: number;
    /** Origins other than the app's own whose browser pages may call the API (CORS). */
    readonly corsAllowedOrigins: readonly string[];
    /** Host names the local host answers to besides loopback names and HOST (DNS rebinding). */
    readonly allowedHosts: readonly string[];
    /** authLevel of the HTTP registrations in the Functions host; `function` asks for a function key too. */
    readonly authLevel: "anonymous" | "function";
    /**
     * The app's address as its clients use it (`scheme://host[:port]`): what the MCP endpoint's
     * OAuth metadata names it by. PUBLIC_BASE_URL; else https://WEBSITE_HOSTNAME in Azure; else the
     * local host's own address, http://HOST:PORT.
     */
    readonly publicBaseUrl: string;
  };
  /** Who calls: resolved once per request, before any handler work. */
  readonly auth: AuthConfig;
  /** Which plugins run on which channel for which roles; undefined: the defaults (src/auth/plugin_policy.ts). */
  readonly pluginPolicy: PluginPolicyConfig | undefined;
  /** Requests per minute on every POST route, per principal; 0: no limit. */
  readonly rateLimit: { readonly perMinute: number; readonly keyPrefix: string };
  readonly memory: {
    readonly redisUrl: string | undefined;
    /** Set in Azure instead of redisUrl. */
    readonly redisEntra: RedisEntraConfig | undefined;
    readonly maxMessages: number;
    readonly ttlSeconds: number;
    readonly keyPrefix: string;
  };
  /** Undefined when nothing is configured: the local host then starts Azurite in-process. */
  readonly storage: StorageConfig | undefined;
  readonly azure: { readonly clientId: string | undefined };
  readonly llm: LlmConfig;
  readonly chat: {
    readonly systemPrompt: string;
    /** The most recent messages of the session given to the model, bounded by count and by characters. */
    readonly historyMaxMessages: number;
    readonly historyMaxChars: number;
    /** Model turns that may call tools before the loop gives up. */
    readonly maxToolSteps: number;
    /** The whole answer, every model turn and tool run included. */
    readonly timeoutMs: number;
  };
  readonly audit: { readonly tableName: string };
  /** OpenTelemetry to Application Insights; undefined when APPLICATIONINSIGHTS_CONNECTION_STRING is not set (nothing is started). */
  readonly telemetry: TelemetryConfig | undefined;
  /** Event-triggered and asynchronous plugin runs. */
  readonly runs: {
    readonly queueName: string;
    readonly poisonQueueName: string;
    readonly resultsContainer: string;
    readonly tableName: string;
    /** The local host's polling of the queue (the Functions host has its own). */
    readonly pollIntervalMs: number;
    /** Deliveries of one message before it goes to the poison queue; host.json's maxDequeueCount in Azure. */
    readonly maxDequeueCount: number;
  };
  readonly plugins: {
    readonly defaultTimeoutMs: number;
    /** Runs of one plugin at a time, and how many more may wait; past that, plugin_busy. */
    readonly maxConcurrency: number;
    /** Of a plugin's runs at a time, how many one principal may have; its others wait (up to maxQueue). */
    readonly maxConcurrencyPerPrincipal: number;
    readonly maxQueue: number;
    readonly cacheKeyPrefix: string;
    readonly settings: PluginSettings;
  };
}

/** What individual plugins are configured with; handed to plugin constructors. */
export interface PluginSettings {
  readonly shell: { readonly allowedCommands: readonly string[]; readonly timeoutMs: number; readonly maxOutputBytes: number };
  readonly huggingFace: {
    readonly token: string | undefined;
    readonly endpoint: string | undefined;
    readonly model: string;
    readonly timeoutMs: number;
    readonly maxRetries: number;
  };
}

export interface TelemetryConfig {
  readonly connectionString: string;
  /**
   * How the exporter authenticates: `managedIdentity` when APPLICATIONINSIGHTS_AUTHENTICATION_STRING
   * says Authorization=AAD (Application Insights with local authentication disabled, as infra/ deploys it),
   * with the identity's client id from that string or else AZURE_CLIENT_ID; `instrumentationKey` otherwise.
   */
  readonly authentication: { readonly kind: "instrumentationKey" } | { readonly kind: "managedIdentity"; readonly clientId: string | undefined };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parses the environment once; the only place in the application that reads it. */
export function loadConfig(environment: Readonly<Record<string, string | undefined>>): AppConfig {
  // Parsed once per process: zod's compiled fast path for objects would cost more to generate than it saves here.
  const parsed = environmentSchema.safeParse(settingsOf(environment), { jitless: true, ...messages });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map(describeIssue));
  }
  const env = parsed.data;
  return {
    version: packageJson.version,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    http: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      corsAllowedOrigins: env.CORS_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
      allowedHosts: env.ALLOWED_HOSTS.map((host) => host.toLowerCase()),
      authLevel: env.HTTP_AUTH_LEVEL,
      publicBaseUrl: publicBaseUrlFrom(env),
    },
    auth: authFrom(env),
    pluginPolicy: env.PLUGIN_POLICY,
    rateLimit: {
      // Off by default where every caller is one local principal, so local load tests are not throttled.
      perMinute: env.RATE_LIMIT_PER_MINUTE ?? ((env.AUTH_MODE ?? "none") === "none" ? 0 : 600),
      keyPrefix: env.RATE_LIMIT_KEY_PREFIX,
    },
    memory: {
      redisUrl: env.REDIS_URL,
      redisEntra: env.REDIS_HOST
        ? { host: env.REDIS_HOST, port: env.REDIS_PORT, tls: env.REDIS_TLS, username: env.REDIS_USERNAME! }
        : undefined,
      maxMessages: env.SESSION_MEMORY_MAX_MESSAGES,
      ttlSeconds: env.SESSION_MEMORY_TTL_SECONDS,
      keyPrefix: env.SESSION_MEMORY_KEY_PREFIX,
    },
    storage: storageFrom(env),
    azure: { clientId: env.AZURE_CLIENT_ID },
    llm: llmFrom(env),
    chat: {
      systemPrompt: env.CHAT_SYSTEM_PROMPT,
      historyMaxMessages: env.CHAT_HISTORY_MAX_MESSAGES,
      historyMaxChars: env.CHAT_HISTORY_MAX_CHARS,
      maxToolSteps: env.CHAT_MAX_TOOL_STEPS,
      timeoutMs: env.CHAT_TIMEOUT_MS,
    },
    audit: { tableName: env.AUDIT_TABLE_NAME },
    telemetry: telemetryFrom(env),
    runs: {
      queueName: env.PLUGIN_RUNS_QUEUE,
      poisonQueueName: `${env.PLUGIN_RUNS_QUEUE}-poison`,
      resultsContainer: env.PLUGIN_RESULTS_CONTAINER,
      tableName: env.RUNS_TABLE_NAME,
      pollIntervalMs: env.QUEUE_POLL_INTERVAL_MS,
      maxDequeueCount: env.QUEUE_MAX_DEQUEUE_COUNT,
    },
    plugins: {
      defaultTimeoutMs: env.PLUGIN_DEFAULT_TIMEOUT_MS,
      maxConcurrency: env.PLUGIN_MAX_CONCURRENCY,
      maxConcurrencyPerPrincipal: pluginShareOf(env),
      maxQueue: env.PLUGIN_MAX_QUEUE,
      cacheKeyPrefix: env.RESULT_CACHE_KEY_PREFIX,
      settings: {
        shell: {
          allowedCommands: env.SHELL_PLUGIN_ALLOWED_COMMANDS,
          timeoutMs: env.SHELL_PLUGIN_TIMEOUT_MS,
          maxOutputBytes: env.SHELL_PLUGIN_MAX_OUTPUT_BYTES,
        },
        huggingFace: {
          token: env.HF_TOKEN,
          endpoint: env.HF_ENDPOINT,
          model: env.HF_MODEL,
          timeoutMs: env.HF_TIMEOUT_MS,
          maxRetries: env.HF_MAX_RETRIES,
        },
      },
    },
  };
}

/**
 * A principal's share of a plugin's concurrency: PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL when set;
 * otherwise half of PLUGIN_MAX_CONCURRENCY (rounded up), so that one principal leaves the other
 * half to the rest, and all of it with AUTH_MODE=none, whose one local caller is every principal.
 */
function pluginShareOf(env: z.infer<typeof environmentSchema>): number {
  if (env.PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL !== undefined) return env.PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL;
  return (env.AUTH_MODE ?? "none") === "none" ? env.PLUGIN_MAX_CONCURRENCY : Math.ceil(env.PLUGIN_MAX_CONCURRENCY / 2);
}

function authFrom(env: z.infer<typeof environmentSchema>): AuthConfig {
  const mode = env.AUTH_MODE ?? "none";
  if (mode === "jwt") {
    return {
      mode,
      issuers: env.AUTH_JWT_ISSUER,
      audiences: env.AUTH_JWT_AUDIENCE,
      jwksUri: env.AUTH_JWT_JWKS_URI,
      clockSkewSeconds: env.AUTH_JWT_CLOCK_SKEW_SECONDS,
      scopes: env.AUTH_JWT_SCOPES,
    };
  }
  return { mode };
}

function publicBaseUrlFrom(env: z.infer<typeof environmentSchema>): string {
  if (env.PUBLIC_BASE_URL) return new URL(env.PUBLIC_BASE_URL).origin;
  // Azure Functions Core Tools sets WEBSITE_HOSTNAME too (localhost:<port>, plain HTTP): only an instance in Azure is https.
  if (env.WEBSITE_INSTANCE_ID && env.WEBSITE_HOSTNAME) return `https://${env.WEBSITE_HOSTNAME.toLowerCase()}`;
  const host = ["0.0.0.0", "::"].includes(env.HOST) ? "127.0.0.1" : env.HOST;
  return `http://${host.includes(":") ? `[${host}]` : host}:${env.PORT}`;
}

/** An explicit LLM_PROVIDER wins; otherwise Azure OpenAI when its endpoint is set, then Ollama, then none. */
function llmFrom(env: z.infer<typeof environmentSchema>): LlmConfig {
  const provider = env.LLM_PROVIDER ?? (env.AZURE_OPENAI_ENDPOINT ? "azure-openai" : env.OLLAMA_BASE_URL ? "ollama" : "none");
  const limits = { timeoutMs: env.LLM_TIMEOUT_MS, maxRetries: env.LLM_MAX_RETRIES };
  if (provider === "ollama") return { provider, baseUrl: env.OLLAMA_BASE_URL!, model: env.OLLAMA_MODEL, ...limits };
  if (provider === "azure-openai") {
    return {
      provider,
      endpoint: env.AZURE_OPENAI_ENDPOINT!,
      deployment: env.AZURE_OPENAI_DEPLOYMENT!,
      apiVersion: env.AZURE_OPENAI_API_VERSION,
      apiKey: env.AZURE_OPENAI_API_KEY,
      ...limits,
    };
  }
  return { provider: "none" };
}

function storageFrom(env: z.infer<typeof environmentSchema>): StorageConfig | undefined {
  if (env.STORAGE_CONNECTION_STRING) {
    return { kind: "connectionString", connectionString: env.STORAGE_CONNECTION_STRING };
  }
  if (env.STORAGE_ACCOUNT_NAME || env.STORAGE_TABLE_ENDPOINT) {
    const account = env.STORAGE_ACCOUNT_NAME;
    // The schema guarantees an account name wherever an endpoint is missing.
    return {
      kind: "identity",
      tableEndpoint: env.STORAGE_TABLE_ENDPOINT ?? `https://${account}.table.core.windows.net`,
      blobEndpoint: env.STORAGE_BLOB_ENDPOINT ?? `https://${account}.blob.core.windows.net`,
      queueEndpoint: env.STORAGE_QUEUE_ENDPOINT ?? `https://${account}.queue.core.windows.net`,
    };
  }
  return undefined;
}

function telemetryFrom(env: z.infer<typeof environmentSchema>): TelemetryConfig | undefined {
  if (!env.APPLICATIONINSIGHTS_CONNECTION_STRING) return undefined;
  const aad = env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ? parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING) : undefined;
  return {
    connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING,
    authentication: aad ? { kind: "managedIdentity", clientId: aad.clientId ?? env.AZURE_CLIENT_ID } : { kind: "instrumentationKey" },
  };
}

/** `Authorization=AAD;ClientId=<guid>` (either order, case-insensitive keys), as Application Insights documents it; undefined when malformed. */
function parseAuthenticationString(text: string): { clientId: string | undefined } | undefined {
  const pairs = new Map<string, string>();
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const at = part.indexOf("=");
    if (at <= 0) return undefined;
    pairs.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  if (pairs.get("authorization")?.toUpperCase() !== "AAD") return undefined;
  const clientId = pairs.get("clientid");
  if (clientId !== undefined && !/^[0-9a-f-]{36}$/i.test(clientId)) return undefined;
  if ([...pairs.keys()].some((key) => key !== "authorization" && key !== "clientid")) return undefined;
  return { clientId };
}

const settingNames = Object.keys(environmentSchema.shape);

/** The settings of `environment` that are set. App Service and local.settings.json commonly carry empty strings for unset values: empty is unset. */
function settingsOf(environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of settingNames) {
    const value = environment[name];
    if (value !== undefined && value !== "") settings[name] = value;
  }
  return settings;
}

/** A configuration that names the storage to use; the Functions host has no embedded fallback. */
export function requireStorage(config: AppConfig): StorageConfig {
  if (!config.storage) {
    throw new ConfigError([
      "STORAGE_CONNECTION_STRING (Azurite: UseDevelopmentStorage=true) or STORAGE_ACCOUNT_NAME (Azure, with Managed Identity) must be set",
    ]);
  }
  return config.storage;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const setting = String(issue.path[0] ?? "configuration");
  // zod's own messages for type errors quote the received value; secrets must not be echoed.
  const message = issue.message.startsWith(setting) ? issue.message : `${setting}: ${issue.message}`;
  return secretSettings.has(setting) && issue.code !== "custom" ? `${setting}: has an invalid value` : message;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value.replace(/\/$/, "");
  } catch {
    return false;
  }
}

/** Addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
