import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createCaller } from "../../../src/auth/caller.js";
import { PluginPolicy } from "../../../src/auth/plugin_policy.js";
import { McpToolCatalogue } from "../../../src/mcp/mcp_tools.js";
import { BasePlugin, type PluginAnnotations } from "../../../src/plugins/plugin.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import { pluginClasses } from "../../../plugins/index.js";
import { pluginEnvironment, testAnnotations } from "../../support/plugin_context.js";

class SchemaPlugin extends BasePlugin<unknown, unknown> {
  readonly title = "A plugin";
  readonly description = "a plugin";
  constructor(
    readonly name: string,
    readonly inputSchema: z.ZodType,
    readonly annotations: PluginAnnotations = testAnnotations,
    readonly outputSchema?: z.ZodType,
    private readonly disabled?: string,
  ) {
    super();
  }
  disabledReason(): string | undefined {
    return this.disabled;
  }
  async execute(): Promise<unknown> {
    return null;
  }
}

const alice = createCaller("user", "alice");
const admin = createCaller("user", "root", ["admin"]);

describe("McpToolCatalogue", () => {
  const registry = new PluginRegistry(
    [
      new SchemaPlugin("open", z.strictObject({ text: z.string().describe("The text.") })),
      new SchemaPlugin("admins", z.strictObject({}), { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true }),
      new SchemaPlugin("structured", z.strictObject({}), testAnnotations, z.strictObject({ count: z.number().int() })),
      new SchemaPlugin("off", z.strictObject({}), testAnnotations, undefined, "not configured"),
    ],
    1000,
  );
  const policy = PluginPolicy.create(registry.list(), { admins: { roles: ["admin"] } }, "jwt");
  const catalogue = new McpToolCatalogue(registry);

  it("offers each caller the enabled plugins the policy lets it run on mcp, in the registry's order", () => {
    expect(catalogue.toolsFor(alice, policy).map((tool) => tool.name)).toEqual(["open", "structured"]);
    expect(catalogue.toolsFor(admin, policy).map((tool) => tool.name)).toEqual(["open", "admins", "structured"]);
  });

  it("describes a tool by the plugin's title, annotations and whole input schema, without the JSON Schema dialect", () => {
    const tools = Object.fromEntries(catalogue.toolsFor(admin, policy).map((tool) => [tool.name, tool]));
    expect(tools.open).toMatchObject({ title: "A plugin", description: "a plugin", annotations: testAnnotations, output: undefined });
    expect(tools.open!.inputSchema).toEqual({
      type: "object",
      properties: { text: { type: "string", description: "The text." } },
      required: ["text"],
      additionalProperties: false,
    });
    expect(tools.admins!.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
  });

  it("gives a plugin with an output schema its JSON Schema as the tool's, and keeps the zod schema that checks results", () => {
    const structured = catalogue.toolsFor(alice, policy).find((tool) => tool.name === "structured")!;
    expect(structured.output!.jsonSchema).toMatchObject({ type: "object", properties: { count: { type: "integer" } }, required: ["count"] });
    expect(structured.output!.jsonSchema.$schema).toBeUndefined();
    expect(structured.output!.schema.safeParse({ count: 2 }).success).toBe(true);
    expect(structured.output!.schema.safeParse({ count: "2" }).success).toBe(false);
  });
});

describe("the plugins as MCP tools", () => {
  const environment = pluginEnvironment({ HF_TOKEN: "hf_test", SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" });
  const plugins = pluginClasses.map((Plugin) => new Plugin(environment));

  it("each declares a title and all four annotations, as the issue of them says", () => {
    const declared = Object.fromEntries(plugins.map((plugin) => [plugin.name, plugin.annotations]));
    const closedReadOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
    expect(declared.calculator).toEqual(closedReadOnly);
    expect(declared.echo).toEqual(closedReadOnly);
    expect(declared.memory).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false });
    expect(declared.shell).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(declared.huggingface).toMatchObject({ openWorldHint: true });
    expect(declared.agent).toMatchObject({ openWorldHint: true });
    for (const plugin of plugins) {
      expect(plugin.title.length, plugin.name).toBeGreaterThan(2);
      expect(Object.keys(plugin.annotations).sort(), plugin.name).toEqual(["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint"]);
      expect(
        Object.values(plugin.annotations).every((hint) => typeof hint === "boolean"),
        plugin.name,
      ).toBe(true);
    }
  });

  it("gives an output schema, whose root is an object, to the plugins whose result is an object, and none to the others", () => {
    const catalogue = new McpToolCatalogue(new PluginRegistry(plugins, 1000));
    const outputs = Object.fromEntries(
      catalogue.toolsFor(admin, PluginPolicy.create(plugins, { shell: { channels: ["mcp"] } }, "jwt")).map((tool) => [tool.name, tool.output?.jsonSchema]),
    );
    expect(Object.keys(outputs)).toEqual(["agent", "calculator", "echo", "huggingface", "memory", "shell"]);
    expect(outputs.calculator).toBeUndefined();
    expect(outputs.echo).toBeUndefined();
    for (const name of ["agent", "huggingface", "memory", "shell"]) {
      const schema = outputs[name]!;
      // An object, or a union of objects (MCP's clients of the 2025 revision need an object at the root).
      const branches = (schema.anyOf ?? schema.oneOf ?? [schema]) as Record<string, unknown>[];
      expect(
        branches.every((branch) => branch.type === "object"),
        name,
      ).toBe(true);
    }
  });
});
