import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { pluginClasses } from "../../plugins/index.js";
import type { JwtAuthenticatorOptions } from "../../src/auth/jwt_authenticator.js";
import { loadConfig, type AppConfig } from "../../src/config/config.js";
import { silentLogger } from "../../src/logging/logger.js";
import type { PluginClass } from "../../src/plugins/plugin.js";
import { createServices, type Services } from "../../src/services.js";

/** Configuration pointing at the run's real redis-server and Azurite, with a key prefix, tables, queue and container of this test's own. */
export function integrationConfig(overrides: Record<string, string> = {}): AppConfig {
  const unique = randomUUID().replace(/-/g, "").slice(0, 12);
  return loadConfig({
    REDIS_URL: inject("redisUrl"),
    STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
    SESSION_MEMORY_KEY_PREFIX: `test:${unique}:`,
    AUDIT_TABLE_NAME: `audit${unique}`,
    RUNS_TABLE_NAME: `runs${unique}`,
    PLUGIN_RUNS_QUEUE: `runs-${unique}`,
    PLUGIN_RESULTS_CONTAINER: `results-${unique}`,
    RATE_LIMIT_KEY_PREFIX: `test:rate:${unique}:`,
    RESULT_CACHE_KEY_PREFIX: `test:cache:${unique}:`,
    LOG_LEVEL: "error",
    ...overrides,
  });
}

export function integrationServices(options: { config?: AppConfig; plugins?: readonly PluginClass[]; jwt?: JwtAuthenticatorOptions } = {}): Services {
  const config = options.config ?? integrationConfig();
  return createServices(config, { plugins: options.plugins ?? pluginClasses, storage: config.storage, logger: silentLogger, jwt: options.jwt });
}
