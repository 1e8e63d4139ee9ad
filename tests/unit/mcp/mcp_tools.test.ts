import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createCaller } from "../../../src/auth/caller.js";
import { PluginPolicy } from "../../../src/auth/plugin_policy.js";
import { coerceArguments, flatToolProperties, mcpToolsFor, mcpToolsForSomeCaller } from "../../../src/mcp/mcp_tools.js";
import { BasePlugin } from "../../../src/plugins/plugin.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";

class SchemaPlugin extends BasePlugin<unknown, unknown> {
  readonly description = "a plugin";
  constructor(
    readonly name: string,
    readonly inputSchema: z.ZodType,
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

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;

describe("flatToolProperties: a plugin's input as the Functions MCP extension's flat list", () => {
  it("types each property, marks the required ones and keeps the descriptions", () => {
    const schema = toJson(
      z.strictObject({
        text: z.string().describe("The text."),
        count: z.number().int().optional(),
        ratio: z.number().describe("A ratio."),
        loud: z.boolean().optional(),
      }),
    );
    expect(flatToolProperties(schema)).toEqual([
      { propertyName: "text", propertyType: "string", description: "The text.", isRequired: true, isArray: false },
      { propertyName: "count", propertyType: "integer", description: "", isRequired: false, isArray: false },
      { propertyName: "ratio", propertyType: "number", description: "A ratio.", isRequired: true, isArray: false },
      { propertyName: "loud", propertyType: "boolean", description: "", isRequired: false, isArray: false },
    ]);
  });

  it("names an enum's values in the description and as enumValues, and a default in words (such a field is not required)", () => {
    const schema = toJson(z.strictObject({ mode: z.enum(["fast", "exact"]).default("fast").describe("How to run.") }));
    expect(flatToolProperties(schema)).toEqual([
      {
        propertyName: "mode",
        propertyType: "string",
        description: 'How to run. One of: fast, exact. Default: "fast".',
        isRequired: false,
        isArray: false,
        enumValues: ["fast", "exact"],
      },
    ]);
  });

  it("gives an array its items' type, and a nested object's fields in words", () => {
    const schema = toJson(
      z.strictObject({
        tags: z.array(z.enum(["a", "b"])),
        stops: z.array(z.string()).optional(),
        options: z.strictObject({ depth: z.number().int(), kind: z.enum(["x", "y"]) }).optional().describe("Settings."),
      }),
    );
    const [tags, stops, options] = flatToolProperties(schema);
    expect(tags).toMatchObject({ propertyType: "string", isArray: true, isRequired: true, enumValues: ["a", "b"], description: "Each one of: a, b." });
    expect(stops).toMatchObject({ propertyType: "string", isArray: true, isRequired: false });
    expect(options).toMatchObject({ propertyType: "object", isArray: false, description: "Settings. A JSON object with the fields: depth (integer), kind (one of: x, y)." });
  });

  it("takes a nullable field's type, a union's shared type, and anything else it cannot name as a string", () => {
    const schema = toJson(
      z.strictObject({ maybe: z.number().nullable(), either: z.union([z.literal("a"), z.literal("b")]), anything: z.unknown(), mixed: z.union([z.string(), z.number()]) }),
    );
    const byName = Object.fromEntries(flatToolProperties(schema).map((p) => [p.propertyName, p]));
    expect(byName.maybe?.propertyType).toBe("number");
    expect(byName.either?.propertyType).toBe("string");
    expect(byName.anything?.propertyType).toBe("string");
    expect(byName.mixed?.propertyType).toBe("string");
  });
});

describe("coerceArguments: values the extension hands over as strings", () => {
  const schema = toJson(
    z.strictObject({ text: z.string(), n: z.number(), i: z.number().int(), b: z.boolean(), o: z.object({ k: z.string() }), a: z.array(z.string()) }),
  );

  it("reads a string as JSON where the property is of another type and the JSON is of that type", () => {
    expect(coerceArguments(schema, { text: "12", n: "1.5", i: "3", b: "true", o: '{"k":"v"}', a: '["x"]' })).toEqual({
      text: "12",
      n: 1.5,
      i: 3,
      b: true,
      o: { k: "v" },
      a: ["x"],
    });
  });

  it("leaves typed values, JSON of the wrong type, text that is no JSON and unknown properties as they are, for the runner to judge", () => {
    expect(coerceArguments(schema, { n: 2, i: "1.5", b: "yes", o: "[1]", extra: "7" })).toEqual({ n: 2, i: "1.5", b: "yes", o: "[1]", extra: "7" });
  });
});

describe("which plugins are tools", () => {
  const plugins = [
    new SchemaPlugin("open", z.strictObject({})),
    new SchemaPlugin("admins", z.strictObject({})),
    new SchemaPlugin("nobody", z.strictObject({})),
    new SchemaPlugin("chat_only", z.strictObject({})),
    new SchemaPlugin("off", z.strictObject({}), "not configured"),
  ];
  const registry = new PluginRegistry(plugins, 1000);
  const policy = PluginPolicy.create(
    plugins,
    { admins: { roles: ["admin"] }, nobody: { roles: [] }, chat_only: { channels: ["chat"] } },
    "jwt",
  );

  it("in Azure, every enabled plugin some caller may run on mcp, before any caller is known", () => {
    expect(mcpToolsForSomeCaller(registry, policy).map((tool) => tool.name)).toEqual(["open", "admins"]);
  });

  it("on the local host, what this caller may run on mcp", () => {
    expect(mcpToolsFor(createCaller("user", "alice"), registry, policy).map((tool) => tool.name)).toEqual(["open"]);
    expect(mcpToolsFor(createCaller("user", "root", ["admin"]), registry, policy).map((tool) => tool.name)).toEqual(["open", "admins"]);
  });

  it("describes each with its plugin's JSON Schema, without the dialect", () => {
    const [open] = mcpToolsForSomeCaller(registry, policy);
    expect(open).toEqual({ name: "open", description: "a plugin", inputSchema: { type: "object", properties: {}, additionalProperties: false } });
  });
});
