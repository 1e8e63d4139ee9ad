import type { InvocationContext } from "@azure/functions";
import { pluginManifest } from "../plugins/manifest.js";
import { PluginPolicy } from "../src/auth/plugin_policy.js";
import type { AppConfig } from "../src/config/config.js";
import { memoize } from "../src/lazy/deferred.js";
import type { CallToolResultBlock } from "../src/mcp/azure_mcp_tool.js";
import { mcpToolNamed, mcpToolsAtStart, type McpToolPropertyDefinition } from "../src/mcp/mcp_tools.js";
import type { Services } from "../src/services.js";

/** One plugin as an MCP tool trigger: registered by main.ts with `app.mcpTool`, served by the Functions MCP extension. */
export interface McpToolFunction {
  /** The function's name: `mcp-<plugin>`. */
  readonly name: string;
  /** The tool's name: the plugin's. */
  readonly toolName: string;
  readonly description: string;
  readonly toolProperties: McpToolPropertyDefinition[];
  readonly handler: (toolArguments: unknown, context: InvocationContext, services: Services) => Promise<CallToolResultBlock>;
}

/** The tool call's code (it loads @azure/functions' content blocks and the runner's call path), read on the first call of any tool. */
const loadToolCall = memoize(() => import("../src/mcp/azure_mcp_tool.js"));

/**
 * The MCP tool functions of this configuration: every enabled plugin that the policy lets some
 * caller run on the mcp channel. The Functions host has to be told them at start, before any
 * caller is known and before the services are built (on the first invocation); they come from the
 * plugins' manifest, so that no plugin is loaded to describe it. A PLUGIN_POLICY that names no
 * plugin still fails the start. The extension answers `tools/list` itself from these, the same list
 * for every caller; whether a caller may run a tool is decided per call, on the services' own
 * plugins, as every route does.
 */
export function mcpToolFunctions(config: AppConfig): McpToolFunction[] {
  const policy = PluginPolicy.create(pluginManifest, config.pluginPolicy, config.auth.mode);
  return mcpToolsAtStart(pluginManifest, policy, config.plugins.settings).map((tool) => ({
    name: `mcp-${tool.name}`,
    toolName: tool.name,
    description: tool.description,
    toolProperties: [...tool.toolProperties],
    handler: async (toolArguments, context, services) => {
      const { handleMcpToolTrigger } = await loadToolCall();
      // Always found when the manifest is current (npm test checks it); otherwise the runner answers plugin_not_found, as an isError result.
      const definition = mcpToolNamed(services.registry, tool.name) ?? { name: tool.name, description: tool.description, inputSchema: {} };
      return handleMcpToolTrigger(definition, toolArguments, context, services);
    },
  }));
}
