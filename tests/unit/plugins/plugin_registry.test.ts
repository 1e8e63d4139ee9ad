import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BasePlugin } from "../../../src/plugins/plugin.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import { testAnnotations } from "../../support/plugin_context.js";

class NamedPlugin extends BasePlugin<{ text: string }, string> {
  readonly title = "Test plugin";
  readonly description = "d";
  readonly annotations = testAnnotations;
  readonly inputSchema = z.strictObject({ text: z.string().describe("what to say"), loud: z.boolean().default(false) });
  constructor(
    readonly name: string,
    readonly aliases: readonly string[] = [],
    readonly timeoutMs?: number,
  ) {
    super();
  }
  async execute(data: { text: string }): Promise<string> {
    return data.text;
  }
}

describe("PluginRegistry", () => {
  it("resolves plugins by name and by alias, and lists each once", () => {
    const echo = new NamedPlugin("echo", ["test", "say"]);
    const registry = new PluginRegistry([echo, new NamedPlugin("other")], 5000);
    expect(registry.resolve("echo")).toBe(echo);
    expect(registry.resolve("test")).toBe(echo);
    expect(registry.resolve("say")).toBe(echo);
    expect(registry.resolve("nope")).toBeUndefined();
    expect(registry.list().map((p) => p.name)).toEqual(["echo", "other"]);
  });

  it("describes each plugin with the JSON Schema of the input a caller sends", () => {
    const [description] = new PluginRegistry([new NamedPlugin("echo", ["test"], 250)], 5000).describe();
    expect(description).toMatchObject({ name: "echo", description: "d", aliases: ["test"], timeoutMs: 250 });
    expect(description?.inputSchema).toMatchObject({
      type: "object",
      properties: { text: { type: "string", description: "what to say" }, loud: { type: "boolean", default: false } },
      required: ["text"],
      additionalProperties: false,
    });
  });

  it("falls back to the default timeout", () => {
    expect(new PluginRegistry([new NamedPlugin("echo")], 1234).describe()[0]?.timeoutMs).toBe(1234);
  });

  it("refuses two plugins claiming the same name or alias", () => {
    expect(() => new PluginRegistry([new NamedPlugin("a", ["x"]), new NamedPlugin("b", ["x"])], 1)).toThrow(/"x" is used by both "a" and "b"/);
    expect(() => new PluginRegistry([new NamedPlugin("a"), new NamedPlugin("a")], 1)).toThrow(/used by both/);
  });

  it("refuses a plugin whose input schema a language model's API would refuse as tool parameters, saying why", () => {
    class UnionPlugin extends NamedPlugin {
      override readonly inputSchema = z.discriminatedUnion("action", [
        z.strictObject({ action: z.literal("a"), text: z.string() }),
        z.strictObject({ action: z.literal("b") }),
      ]) as never;
    }
    class TextPlugin extends NamedPlugin {
      override readonly inputSchema = z.string() as never;
    }
    expect(() => new PluginRegistry([new NamedPlugin("fine"), new UnionPlugin("union")], 1)).toThrow(
      /^plugin "union": its input schema cannot be offered to a language model as a tool: the top level must be "type": "object", not null; .*must not use "oneOf"/,
    );
    expect(() => new PluginRegistry([new TextPlugin("text")], 1)).toThrow(/plugin "text".*not "string"/);
  });

  it("refuses names that could not be typed in /run or used as an LLM tool name", () => {
    expect(() => new PluginRegistry([new NamedPlugin("Bad Name")], 1)).toThrow(/must match/);
    expect(() => new PluginRegistry([new NamedPlugin("ok", ["no-dash"])], 1)).toThrow(/must match/);
  });
});
