import { describe, expect, it } from "vitest";
import { pluginClasses } from "../../../plugins/index.js";
import { modelFacingSchemaProblems } from "../../../src/plugins/model_facing_schema.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import { pluginEnvironment } from "../../support/plugin_context.js";

/** Every plugin of plugins/, registered as the app registers them (HF_TOKEN and an allow-list enable the optional ones). */
const registry = new PluginRegistry(
  pluginClasses.map((Plugin) => new Plugin(pluginEnvironment({ HF_TOKEN: "hf_test", SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" }))),
  5000,
);

describe("every registered plugin, as a model sees it", () => {
  it("is the whole catalogue", () => {
    expect(registry.describe().map((p) => p.name)).toEqual(["agent", "calculator", "echo", "huggingface", "memory", "shell"]);
  });

  // The rules of OpenAI's function calling, written out here rather than imported, so that a
  // mistake in the registry's own check cannot hide a plugin that breaks them.
  it.each(registry.describe().map((p) => [p.name, p] as const))("%s has a tool name and parameters OpenAI accepts", (_name, plugin) => {
    expect(plugin.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    const schema = plugin.inputSchema;
    expect(schema.type).toBe("object");
    expect(schema.properties).toEqual(expect.any(Object));
    expect(Array.isArray(schema.properties)).toBe(false);
    for (const keyword of ["oneOf", "anyOf", "allOf", "not", "enum"]) expect(schema).not.toHaveProperty(keyword);
  });
});

describe("modelFacingSchemaProblems", () => {
  const object = { type: "object", properties: { text: { type: "string" } } };

  it("accepts an object with properties", () => {
    expect(modelFacingSchemaProblems("echo", object)).toEqual([]);
    expect(modelFacingSchemaProblems("A-b_9", { type: "object", properties: {} })).toEqual([]);
  });

  it.each<[string, string, Record<string, unknown>, RegExp]>([
    ["a top-level oneOf (a zod discriminated union)", "memory", { oneOf: [object, object] }, /"type": "object", not null.*"oneOf"/],
    ["a string", "say", { type: "string" }, /not "string"/],
    ["an object without properties (a zod record)", "map", { type: "object", additionalProperties: { type: "string" } }, /"properties"/],
    ["an object with a top-level anyOf", "either", { ...object, anyOf: [object] }, /"anyOf"/],
    ["an object with a top-level enum", "fixed", { ...object, enum: [{}] }, /"enum"/],
    ["a name with a dot", "a.b", object, /name must match/],
    ["a name of 65 characters", "a".repeat(65), object, /name must match/],
  ])("refuses %s", (_label, name, schema, problem) => {
    expect(modelFacingSchemaProblems(name, schema).join("; ")).toMatch(problem);
  });
});
