import type { InvocationContext } from "@azure/functions";
import { PluginPolicy } from "../src/auth/plugin_policy.js";
import type { AppConfig } from "../src/config/config.js";
import { AppError } from "../src/errors/app_error.js";
import { silentLogger } from "../src/logging/logger.js";
import { handleMcpToolTrigger, type CallToolResultBlock, type McpToolServices } from "../src/mcp/azure_mcp_tool.js";
import { flatToolProperties, mcpToolsForSomeCaller, type McpToolPropertyDefinition } from "../src/mcp/mcp_tools.js";
import type { PluginClass } from "../src/plugins/plugin.js";
import { PluginRegistry } from "../src/plugins/plugin_registry.js";

/** One plugin as an MCP tool trigger: registered by main.ts with `app.mcpTool`, served by the Functions MCP extension. */
export interface McpToolFunction {
  /** The function's name: `mcp-<plugin>`. */
  readonly name: string;
  /** The tool's name: the plugin's. */
  readonly toolName: string;
  readonly description: string;
  readonly toolProperties: McpToolPropertyDefinition[];
  readonly handler: (toolArguments: unknown, context: InvocationContext, services: McpToolServices) => Promise<CallToolResultBlock>;
}

/**
 * The MCP tool functions of this configuration: every enabled plugin that the policy lets some
 * caller run on the mcp channel. The Functions host has to be told them at start, before any
 * caller is known and before the services are built (on the first invocation), so the plugins are
 * instantiated here only to be described; each call runs on the services' own, as every route does.
 * The extension answers `tools/list` itself from these, the same list for every caller; whether a
 * caller may run a tool is decided per call.
 */
export function mcpToolFunctions(config: AppConfig, pluginClasses: readonly PluginClass[]): McpToolFunction[] {
  const plugins = pluginClasses.map(
    (Plugin) =>
      new Plugin({
        logger: silentLogger,
        settings: config.plugins.settings,
        // Never called: these instances only describe the tools.
        agent: { run: async () => Promise.reject(new AppError("internal_error", "a plugin instance that only describes a tool was run")) },
      }),
  );
  const registry = new PluginRegistry(plugins, config.plugins.defaultTimeoutMs);
  const policy = PluginPolicy.create(plugins, config.pluginPolicy, config.auth.mode);
  return mcpToolsForSomeCaller(registry, policy).map((tool) => ({
    name: `mcp-${tool.name}`,
    toolName: tool.name,
    description: tool.description,
    toolProperties: flatToolProperties(tool.inputSchema),
    handler: (toolArguments, context, services) => handleMcpToolTrigger(tool, toolArguments, context, services),
  }));
}
