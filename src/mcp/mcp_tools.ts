import { z } from "zod";
import type { Caller } from "../auth/caller.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import type { AnyPlugin, PluginAnnotations } from "../plugins/plugin.js";
import type { PluginRegistry } from "../plugins/plugin_registry.js";

type JsonSchema = Record<string, unknown>;

/** One plugin as an MCP tool: what tools/list shows of it, and the schema its result is checked against. */
export interface McpToolDefinition {
  /** The plugin's own name, which is the tool's. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** All four, as the plugin declares them. */
  readonly annotations: PluginAnnotations;
  /** The plugin's input JSON Schema as GET /api/plugins lists it (a top-level object), without `$schema`. */
  readonly inputSchema: JsonSchema;
  /** For a plugin whose result is a JSON object with a schema: that schema, and its JSON Schema. */
  readonly output: { readonly schema: z.ZodType; readonly jsonSchema: JsonSchema } | undefined;
  readonly plugin: AnyPlugin;
}

/**
 * The plugins as MCP tools, described once per process (the JSON Schemas are converted here,
 * not for every request's server) and offered to each caller as the policy allows.
 */
export class McpToolCatalogue {
  private readonly tools: readonly McpToolDefinition[];

  constructor(registry: PluginRegistry) {
    this.tools = registry.describe().flatMap((described) => {
      const plugin = registry.resolve(described.name);
      if (!plugin) return [];
      const { $schema: _dialect, ...inputSchema } = described.inputSchema;
      return [
        {
          name: described.name,
          title: plugin.title,
          description: described.description,
          annotations: plugin.annotations,
          inputSchema,
          output: plugin.outputSchema && { schema: plugin.outputSchema, jsonSchema: outputJsonSchema(plugin.outputSchema) },
          plugin,
        },
      ];
    });
  }

  /** The tools this caller may run on the mcp channel and the configuration enables, in the registry's order; only the one `named`, if given. */
  toolsFor(caller: Caller, policy: PluginPolicy, named?: string): McpToolDefinition[] {
    return this.tools.filter(
      (tool) => (named === undefined || tool.name === named) && policy.allows(caller, tool.plugin, "mcp") && tool.plugin.disabledReason?.() === undefined,
    );
  }
}

function outputJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as JsonSchema;
  return json;
}
