import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pluginClasses } from "../../../../plugins/index.js";
import { pluginManifest } from "../../../../plugins/manifest.js";
import { PluginPolicy } from "../../../../src/auth/plugin_policy.js";
import { loadConfig } from "../../../../src/config/config.js";
import { flatToolProperties, mcpToolsAtStart, mcpToolsForSomeCaller } from "../../../../src/mcp/mcp_tools.js";
import { BasePlugin, type PluginClass } from "../../../../src/plugins/plugin.js";
import { manifestDescription } from "../../../../src/plugins/plugin_manifest.js";
import { PluginRegistry } from "../../../../src/plugins/plugin_registry.js";
import { readManifestSources, renderManifest } from "../../../../src/plugins/registry/manifest_source.js";
import { manifestFileName, RegistryError } from "../../../../src/plugins/registry/registry_source.js";
import { pluginEnvironment } from "../../../support/plugin_context.js";

const pluginsFolder = fileURLToPath(new URL("../../../../plugins/", import.meta.url));

/**
 * Settings that change what the plugins say of themselves: the Hugging Face token and default
 * model, the shell plugin's commands and limits, and policies that put the shell plugin on mcp or
 * keep plugins from every caller.
 */
const environments: Record<string, string>[] = [
  {},
  { HF_TOKEN: "hf_test", HF_MODEL: "owner/model-x" },
  { SHELL_PLUGIN_ALLOWED_COMMANDS: "echo,ls", SHELL_PLUGIN_TIMEOUT_MS: "1234", SHELL_PLUGIN_MAX_OUTPUT_BYTES: "2048" },
  {
    SHELL_PLUGIN_ALLOWED_COMMANDS: "echo",
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: "https://login.microsoftonline.com/tenant/v2.0",
    AUTH_JWT_AUDIENCE: "api://codex",
    PLUGIN_POLICY: '{"openinterpreter":{"channels":["mcp"],"roles":["admin"]},"test":{"roles":[]},"agent":{"channels":["chat"]}}',
  },
];

describe("the checked-in plugins/manifest.ts", () => {
  it("is what the generator writes for the plugins as they are", async () => {
    const expected = renderManifest(await readManifestSources(pluginsFolder, pluginClasses));
    const actual = readFileSync(join(pluginsFolder, manifestFileName), "utf8");
    expect(actual, "plugins/manifest.ts is out of date: run npm run plugins:generate").toBe(expected);
  });

  it.each(environments.map((environment) => [JSON.stringify(environment), environment] as const))(
    "says of every plugin what the plugin says of itself, with the settings %s",
    (_label, environment) => {
      const { settings } = pluginEnvironment(environment);
      const plugins = pluginClasses.map((Plugin) => new Plugin(pluginEnvironment(environment)));
      const descriptions = new PluginRegistry(plugins, 1000).describe();
      expect(
        pluginManifest.map((entry) => ({
          name: entry.name,
          aliases: entry.aliases,
          defaultPolicy: entry.defaultPolicy,
          description: manifestDescription(entry, settings),
          disabledReason: entry.disabledReason?.(settings),
          toolProperties: entry.toolProperties,
        })),
      ).toEqual(
        plugins.map((plugin, index) => ({
          name: plugin.name,
          aliases: [...(plugin.aliases ?? [])],
          defaultPolicy: plugin.defaultPolicy,
          description: plugin.description,
          disabledReason: plugin.disabledReason?.(),
          toolProperties: flatToolProperties(descriptions[index]!.inputSchema),
        })),
      );
    },
  );

  it.each(environments.map((environment) => [JSON.stringify(environment), environment] as const))(
    "gives the Functions host the MCP tools the plugins themselves give, with the settings %s",
    (_label, environment) => {
      const config = loadConfig(environment);
      const plugins = pluginClasses.map((Plugin) => new Plugin(pluginEnvironment(environment)));
      const fromPlugins = mcpToolsForSomeCaller(new PluginRegistry(plugins, 1000), PluginPolicy.create(plugins, config.pluginPolicy, config.auth.mode));
      const atStart = mcpToolsAtStart(pluginManifest, PluginPolicy.create(pluginManifest, config.pluginPolicy, config.auth.mode), config.plugins.settings);
      expect(atStart).toEqual(fromPlugins.map((tool) => ({ name: tool.name, description: tool.description, toolProperties: flatToolProperties(tool.inputSchema) })));
      expect(atStart.length).toBeGreaterThan(0);
    },
  );

  it("gives different tools for the settings above, so that the comparison covers what the settings change", () => {
    const tools = environments.map((environment) => {
      const config = loadConfig(environment);
      return mcpToolsAtStart(pluginManifest, PluginPolicy.create(pluginManifest, config.pluginPolicy, config.auth.mode), config.plugins.settings);
    });
    expect(tools.map((list) => list.map((tool) => tool.name))).toEqual([
      ["agent", "calculator", "echo", "memory"],
      ["agent", "calculator", "echo", "huggingface", "memory"],
      ["agent", "calculator", "echo", "memory"],
      ["calculator", "memory", "shell"],
    ]);
    expect(tools[1]!.find((tool) => tool.name === "huggingface")!.description).toContain("owner/model-x");
    expect(tools[3]!.find((tool) => tool.name === "shell")!.description).toContain("Allowed commands: echo.");
  });
});

describe("readManifestSources", () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), "plugin-manifest-"));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  class SometimesPlugin extends BasePlugin<{ text: string }, string> {
    readonly name = "sometimes";
    readonly description = "Works when configured.";
    readonly inputSchema = z.strictObject({ text: z.string().describe("What to work on.") });
    async execute(data: { text: string }): Promise<string> {
      return data.text;
    }
    disabledReason(): string | undefined {
      return "not configured";
    }
  }

  it("refuses a plugin whose availability depends on the settings but has no listing module to say so at start", async () => {
    const failure = await readManifestSources(folder, [SometimesPlugin as unknown as PluginClass]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RegistryError);
    expect((failure as Error).message).toMatch(/plugins\/sometimes\/listing\.ts: .* export it from its listing module as disabledReason\(settings\)/);
  });

  it("refers to the listing module's functions, and writes down the rest", async () => {
    mkdirSync(join(folder, "sometimes"));
    writeFileSync(join(folder, "sometimes", "listing.ts"), 'export function disabledReason() { return "not configured"; }\n');
    const sources = await readManifestSources(folder, [SometimesPlugin as unknown as PluginClass]);
    expect(sources).toEqual([
      {
        name: "sometimes",
        aliases: [],
        description: "Works when configured.",
        toolProperties: [{ propertyName: "text", propertyType: "string", description: "What to work on.", isRequired: true, isArray: false }],
        listing: { description: false, disabledReason: true },
      },
    ]);
    const text = renderManifest(sources);
    expect(text).toContain('import * as sometimesListing from "./sometimes/listing.js";');
    expect(text).toContain('description: "Works when configured.",');
    expect(text).toContain("disabledReason: sometimesListing.disabledReason,");
  });
});
