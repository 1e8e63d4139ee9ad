/**
 * The application's configuration: one schema, parsed once at start from the environment, the only
 * place that reads it. Each part declares its settings (environment variables) next to the schema
 * that parses them and shapes them into the part's object (src/config/*_settings.ts, and each
 * plugin's own in plugins/<name>/settings.ts); AppConfig is what the schema outputs.
 * docs/configuration.md is generated from the settings' documentation (`npm run docs:config`).
 */
import * as z from "zod/mini";
import english from "zod/v4/locales/en.js";
import packageJson from "../../package.json" with { type: "json" };
import { authSettings } from "./auth_settings.js";
import { azureSettings } from "./azure_settings.js";
import { chatSettings } from "./chat_settings.js";
import { host, httpSettings, port } from "./http_settings.js";
import { llmSettings } from "./llm_settings.js";
import { memorySettings } from "./memory_settings.js";
import { pluginPolicy } from "./plugin_policy_setting.js";
import { pluginsSettings } from "./plugins_settings.js";
import { rateLimitSettings } from "./rate_limit_settings.js";
import { runsSettings } from "./runs_settings.js";
import { isSettingName, oneOf, settingDocs, settingsIn, withParts, type Environment } from "./setting.js";
import { auditSettings, storageSettings } from "./storage_settings.js";
import { telemetrySettings } from "./telemetry_settings.js";

export type { ApprovalRuleConfig, PluginPolicyConfig } from "./plugin_policy_setting.js";

/** The configuration's settings and parts, in the order docs/configuration.md lists them. */
export const configSchema = z.pipe(
  withParts(
    z.object({
      PORT: port,
      HOST: host,
      LOG_LEVEL: z._default(oneOf(["debug", "info", "warn", "error"]), "info").register(settingDocs, {
        azure: "`info` (parameter `logLevel`)",
        description: "`debug`, `info`, `warn` or `error`",
      }),
      http: httpSettings,
      auth: authSettings,
      PLUGIN_POLICY: pluginPolicy,
      rateLimit: rateLimitSettings,
      memory: memorySettings,
      storage: storageSettings,
      azure: azureSettings,
      audit: auditSettings,
      runs: runsSettings,
      plugins: pluginsSettings,
      llm: llmSettings,
      chat: chatSettings,
      telemetry: telemetrySettings,
    }),
  ),
  z.transform(({ PORT, HOST, LOG_LEVEL, PLUGIN_POLICY, ...parts }) => ({
    version: packageJson.version,
    /** Where the local host listens (the Functions host chooses its own). */
    port: PORT,
    host: HOST,
    logLevel: LOG_LEVEL,
    /** Which plugins run on which channel for which roles; undefined: the defaults (src/auth/plugin_policy.ts). */
    pluginPolicy: PLUGIN_POLICY,
    ...parts,
  })),
);

export type AppConfig = z.output<typeof configSchema>;
export type AuthConfig = AppConfig["auth"];
export type LlmConfig = AppConfig["llm"];
export type StorageConfig = NonNullable<AppConfig["storage"]>;
export type TelemetryConfig = NonNullable<AppConfig["telemetry"]>;
/** What individual plugins are configured with; handed to plugin constructors. */
export type PluginSettings = AppConfig["plugins"]["settings"];

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * zod's English messages for the issues that carry none of their own. Classic zod installs them
 * globally when it is first loaded, zod/mini never does; given to the parse, so the messages do not
 * depend on whether some other module has loaded classic zod yet.
 */
const englishMessages = english().localeError;

/** Parses the environment once; throws a ConfigError naming every bad setting. */
export function loadConfig(environment: Environment): AppConfig {
  // App Service and local.settings.json commonly carry empty strings for unset values: empty is unset.
  const set = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = configSchema.safeParse(set, { error: englishMessages });
  if (!parsed.success) {
    const secrets = new Set(
      settingsIn(configSchema)
        .filter((setting) => setting.doc?.secret)
        .map((setting) => setting.name),
    );
    // A setting that several parts read is reported by each of them, in the same words.
    throw new ConfigError([...new Set(parsed.error.issues.map((issue) => describeIssue(issue, secrets)))]);
  }
  return parsed.data;
}

/** "PORT must be a whole number", "PLUGIN_POLICY shell.roles.0: Invalid input: ...", never a secret's value. */
function describeIssue(issue: z.core.$ZodIssue, secrets: ReadonlySet<string>): string {
  const at = issue.path.findIndex(isSettingName);
  const setting = at === -1 ? "configuration" : String(issue.path[at]);
  // zod's own messages may describe the value; the refinements' messages are the settings' own words.
  if (secrets.has(setting) && issue.code !== "custom") return `${setting}: has an invalid value`;
  const within = at === -1 ? "" : issue.path.slice(at + 1).join(".");
  if (within !== "") return `${setting} ${within}: ${issue.message}`;
  if (issue.message.startsWith(setting)) return issue.message;
  return issue.message.startsWith("must ") ? `${setting} ${issue.message}` : `${setting}: ${issue.message}`;
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
