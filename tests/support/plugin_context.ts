import { localCaller } from "../../src/auth/caller.js";
import { loadConfig } from "../../src/config/config.js";
import { silentLogger } from "../../src/logging/logger.js";
import { AppError } from "../../src/errors/app_error.js";
import type { AgentRunner, PluginContext, PluginEnvironment, PluginSettings } from "../../src/plugins/plugin.js";

/** The hints of a test plugin that changes nothing and reaches nothing beyond the app. */
export const testAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** The context a plugin gets from the runner, for calling a plugin directly in a unit test. */
export function pluginContext(overrides: Partial<PluginContext> = {}): PluginContext {
  return {
    runId: "t",
    caller: localCaller,
    channel: "execute",
    sessionId: undefined,
    signal: new AbortController().signal,
    logger: silentLogger,
    memory: undefined,
    lineage: ["test"],
    ...overrides,
  };
}

/** What a plugin constructor gets: the default settings, with the given environment variables applied. */
export function pluginEnvironment(environment: Record<string, string> = {}, agent: AgentRunner = noAgent): PluginEnvironment {
  const settings: PluginSettings = loadConfig(environment).plugins.settings;
  return { logger: silentLogger, settings, agent };
}

const noAgent: AgentRunner = {
  run: () => Promise.reject(new AppError("llm_unavailable", "no language model in this test")),
};
