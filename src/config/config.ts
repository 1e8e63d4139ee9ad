import { z } from "zod";
import packageJson from "../../package.json" with { type: "json" };

/** Settings whose values must never appear in an error message or a log line. */
const secretSettings = new Set(["STORAGE_CONNECTION_STRING", "REDIS_URL", "HF_TOKEN", "AZURE_OPENAI_API_KEY"]);

// App Service and local.settings.json commonly carry empty strings for unset values.
const optionalText = z.preprocess((v) => (v === "" ? undefined : v), z.string().trim().min(1).optional());

function integer(name: string, min: number, max: number, fallback: number) {
  return z.preprocess(
    (v) => (v === undefined || v === "" ? fallback : v),
    z.coerce
      .number({ error: `${name} must be a whole number` })
      .int(`${name} must be a whole number`)
      .min(min, `${name} must be at least ${min}`)
      .max(max, `${name} must be at most ${max}`),
  );
}

const environmentSchema = z
  .object({
    PORT: integer("PORT", 0, 65535, 7071),
    HOST: z.preprocess(
      (v) => (v === "" || v === undefined ? "127.0.0.1" : v),
      z.string().regex(/^[0-9a-fA-F.:]+$|^localhost$/, "HOST must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0"),
    ),
    LOG_LEVEL: z.preprocess(
      (v) => (v === "" || v === undefined ? "info" : v),
      z.enum(["debug", "info", "warn", "error"], { error: "LOG_LEVEL must be one of debug, info, warn, error" }),
    ),
    MAX_BODY_BYTES: integer("MAX_BODY_BYTES", 1024, 100 * 1024 * 1024, 1024 * 1024),
    REDIS_URL: optionalText.refine((v) => v === undefined || /^rediss?:\/\/[^\s]+$/.test(v), {
      message: "REDIS_URL must be a redis:// or rediss:// URL",
    }),
    SESSION_MEMORY_MAX_MESSAGES: integer("SESSION_MEMORY_MAX_MESSAGES", 1, 10_000, 50),
    SESSION_MEMORY_TTL_SECONDS: integer("SESSION_MEMORY_TTL_SECONDS", 1, 365 * 24 * 3600, 7 * 24 * 3600),
    SESSION_MEMORY_KEY_PREFIX: z.preprocess((v) => (v === "" || v === undefined ? "mem:" : v), z.string().max(64)),
    STORAGE_CONNECTION_STRING: optionalText,
    STORAGE_ACCOUNT_NAME: optionalText.refine((v) => v === undefined || /^[a-z0-9]{3,24}$/.test(v), {
      message: "STORAGE_ACCOUNT_NAME must be 3-24 lowercase letters and digits",
    }),
    STORAGE_TABLE_ENDPOINT: optionalText.refine((v) => v === undefined || isHttpUrl(v), {
      message: "STORAGE_TABLE_ENDPOINT must be an http(s) URL",
    }),
    STORAGE_BLOB_ENDPOINT: optionalText.refine((v) => v === undefined || isHttpUrl(v), {
      message: "STORAGE_BLOB_ENDPOINT must be an http(s) URL",
    }),
    STORAGE_QUEUE_ENDPOINT: optionalText.refine((v) => v === undefined || isHttpUrl(v), {
      message: "STORAGE_QUEUE_ENDPOINT must be an http(s) URL",
    }),
    PLUGIN_RUNS_QUEUE: z.preprocess(
      (v) => (v === "" || v === undefined ? "plugin-runs" : v),
      z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "PLUGIN_RUNS_QUEUE must be a queue name: 3-63 lowercase letters, digits and single hyphens"),
    ),
    PLUGIN_RESULTS_CONTAINER: z.preprocess(
      (v) => (v === "" || v === undefined ? "plugin-results" : v),
      z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "PLUGIN_RESULTS_CONTAINER must be a container name: 3-63 lowercase letters, digits and single hyphens"),
    ),
    RUNS_TABLE_NAME: z.preprocess(
      (v) => (v === "" || v === undefined ? "pluginruns" : v),
      z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "RUNS_TABLE_NAME must be 3-63 letters and digits, starting with a letter"),
    ),
    QUEUE_POLL_INTERVAL_MS: integer("QUEUE_POLL_INTERVAL_MS", 50, 60_000, 1000),
    QUEUE_MAX_DEQUEUE_COUNT: integer("QUEUE_MAX_DEQUEUE_COUNT", 1, 100, 5),
    REDIS_HOST: optionalText.refine((v) => v === undefined || /^[A-Za-z0-9.-]+$/.test(v), {
      message: "REDIS_HOST must be a host name such as <name>.redis.cache.windows.net",
    }),
    REDIS_PORT: integer("REDIS_PORT", 1, 65535, 6380),
    REDIS_TLS: z.preprocess(
      (v) => (v === "" || v === undefined ? "true" : v),
      z.enum(["true", "false"], { error: "REDIS_TLS must be true or false" }).transform((v) => v === "true"),
    ),
    REDIS_USERNAME: optionalText,
    AZURE_CLIENT_ID: optionalText.refine((v) => v === undefined || /^[0-9a-f-]{36}$/i.test(v), {
      message: "AZURE_CLIENT_ID must be the client id (a GUID) of the user-assigned managed identity",
    }),
    AUDIT_TABLE_NAME: z.preprocess(
      (v) => (v === "" || v === undefined ? "auditlog" : v),
      z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "AUDIT_TABLE_NAME must be 3-63 letters and digits, starting with a letter"),
    ),
    PLUGIN_DEFAULT_TIMEOUT_MS: integer("PLUGIN_DEFAULT_TIMEOUT_MS", 10, 10 * 60 * 1000, 5000),
    PLUGIN_MAX_CONCURRENCY: integer("PLUGIN_MAX_CONCURRENCY", 1, 10_000, 16),
    PLUGIN_MAX_QUEUE: integer("PLUGIN_MAX_QUEUE", 0, 100_000, 64),
    RESULT_CACHE_KEY_PREFIX: z.preprocess((v) => (v === "" || v === undefined ? "cache:" : v), z.string().max(64)),
    SHELL_PLUGIN_ALLOWED_COMMANDS: z.preprocess(
      (v) => (typeof v === "string" ? v.split(",").map((c) => c.trim()).filter((c) => c !== "") : []),
      z.array(
        z.string().regex(/^[A-Za-z0-9._+-]+$/, "SHELL_PLUGIN_ALLOWED_COMMANDS must list executable names (no paths), separated by commas"),
      ),
    ),
    SHELL_PLUGIN_TIMEOUT_MS: integer("SHELL_PLUGIN_TIMEOUT_MS", 100, 5 * 60 * 1000, 10_000),
    SHELL_PLUGIN_MAX_OUTPUT_BYTES: integer("SHELL_PLUGIN_MAX_OUTPUT_BYTES", 1024, 10 * 1024 * 1024, 64 * 1024),
    HF_TOKEN: optionalText,
    HF_ENDPOINT: optionalText.refine((v) => v === undefined || isHttpUrl(v), { message: "HF_ENDPOINT must be an http(s) URL" }),
    HF_MODEL: z.preprocess(
      (v) => (v === "" || v === undefined ? "distilbert/distilbert-base-uncased-finetuned-sst-2-english" : v),
      z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, "HF_MODEL must be a model id such as owner/name"),
    ),
    HF_TIMEOUT_MS: integer("HF_TIMEOUT_MS", 100, 5 * 60 * 1000, 20_000),
    HF_MAX_RETRIES: integer("HF_MAX_RETRIES", 0, 10, 3),
    LLM_PROVIDER: z.preprocess(
      (v) => (v === "" ? undefined : v),
      z.enum(["ollama", "azure-openai", "none"], { error: "LLM_PROVIDER must be ollama, azure-openai or none" }).optional(),
    ),
    OLLAMA_BASE_URL: optionalText.refine((v) => v === undefined || isHttpUrl(v), { message: "OLLAMA_BASE_URL must be an http(s) URL" }),
    OLLAMA_MODEL: z.preprocess((v) => (v === "" || v === undefined ? "llama3.1" : v), z.string().min(1).max(200)),
    AZURE_OPENAI_ENDPOINT: optionalText.refine((v) => v === undefined || isHttpUrl(v), {
      message: "AZURE_OPENAI_ENDPOINT must be an http(s) URL such as https://<resource>.openai.azure.com",
    }),
    AZURE_OPENAI_DEPLOYMENT: optionalText,
    AZURE_OPENAI_API_VERSION: z.preprocess((v) => (v === "" || v === undefined ? "2024-10-21" : v), z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "AZURE_OPENAI_API_VERSION must look like 2024-10-21")),
    AZURE_OPENAI_API_KEY: optionalText,
    LLM_TIMEOUT_MS: integer("LLM_TIMEOUT_MS", 100, 10 * 60 * 1000, 60_000),
    LLM_MAX_RETRIES: integer("LLM_MAX_RETRIES", 0, 10, 2),
    CHAT_SYSTEM_PROMPT: z.preprocess(
      (v) => (v === "" || v === undefined ? defaultSystemPrompt : v),
      z.string().max(20_000, "CHAT_SYSTEM_PROMPT must be at most 20000 characters"),
    ),
    CHAT_HISTORY_MAX_MESSAGES: integer("CHAT_HISTORY_MAX_MESSAGES", 0, 1000, 20),
    CHAT_HISTORY_MAX_CHARS: integer("CHAT_HISTORY_MAX_CHARS", 0, 1_000_000, 16_000),
    CHAT_MAX_TOOL_STEPS: integer("CHAT_MAX_TOOL_STEPS", 1, 50, 5),
    // Azure ends an HTTP-triggered function at 230 s; the answer must come before that.
    CHAT_TIMEOUT_MS: integer("CHAT_TIMEOUT_MS", 1000, 225_000, 200_000),
  })
  .superRefine((env, ctx) => {
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
    if (env.STORAGE_CONNECTION_STRING && (env.STORAGE_ACCOUNT_NAME || env.STORAGE_TABLE_ENDPOINT)) {
      ctx.addIssue({
        code: "custom",
        path: ["STORAGE_CONNECTION_STRING"],
        message:
          "STORAGE_CONNECTION_STRING cannot be combined with STORAGE_ACCOUNT_NAME or STORAGE_TABLE_ENDPOINT: use the connection string for Azurite, the account for Azure",
      });
    }
  });

const defaultSystemPrompt =
  "You are the assistant of a chat application. Answer briefly and accurately. When a tool can give an exact answer " +
  "(arithmetic, the session's memory, a command), call it instead of guessing, and base your answer on its result.";

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

export interface AppConfig {
  readonly version: string;
  /** Where the local host listens (the Functions host chooses its own). */
  readonly port: number;
  readonly host: string;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly http: { readonly maxBodyBytes: number };
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
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map(describeIssue));
  }
  const env = parsed.data;
  return {
    version: packageJson.version,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    http: { maxBodyBytes: env.MAX_BODY_BYTES },
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
