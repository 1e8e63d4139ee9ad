import type { McpToolPropertyDefinition } from "../mcp/mcp_tools.js";
import type { Plugin, PluginSettings } from "./plugin.js";

/**
 * What can be said of a plugin without loading it (its class, its zod schema, its dependencies):
 * enough for the Functions entry to register it as an MCP tool at start, the policy included.
 * plugins/manifest.ts holds one per plugin, written by `npm run plugins:generate` from the plugins
 * themselves (src/plugins/registry/manifest_source.ts) and checked against them by the tests.
 */
export interface PluginManifestEntry {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly defaultPolicy?: Plugin["defaultPolicy"];
  /** The plugin's description; a function of the settings when it names them (its listing module's). */
  readonly description: string | ((settings: PluginSettings) => string);
  /** Why the settings leave the plugin disabled (its listing module's); absent for a plugin that is never disabled. */
  readonly disabledReason?: (settings: PluginSettings) => string | undefined;
  /** Its input schema as the Functions MCP extension's flat list of properties (flatToolProperties). */
  readonly toolProperties: readonly McpToolPropertyDefinition[];
}

/**
 * A plugin's listing module, `plugins/<name>/listing.ts`: what its description and availability
 * take from the settings, apart from the plugin so that the manifest can use it at start. The
 * plugin computes its own `description` and `disabledReason()` with the same functions.
 */
export interface PluginListing {
  readonly description?: (settings: PluginSettings) => string;
  readonly disabledReason?: (settings: PluginSettings) => string | undefined;
}

export function manifestDescription(entry: PluginManifestEntry, settings: PluginSettings): string {
  return typeof entry.description === "string" ? entry.description : entry.description(settings);
}
