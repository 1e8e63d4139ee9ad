import { silentLogger } from "../../src/logging/logger.js";
import type { PluginContext } from "../../src/plugins/plugin.js";

/** The context a plugin gets from the runner, for calling a plugin directly in a unit test. */
export function pluginContext(overrides: Partial<PluginContext> = {}): PluginContext {
  return { runId: "t", sessionId: undefined, signal: new AbortController().signal, logger: silentLogger, memory: undefined, ...overrides };
}
