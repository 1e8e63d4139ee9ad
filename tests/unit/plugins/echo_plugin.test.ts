import { describe, it, expect } from "vitest";
import { pluginContext, pluginEnvironment } from "../../support/plugin_context.js";
import type { AnyPlugin } from "../../../src/plugins/plugin.js";
import { EchoPlugin } from "../../../plugins/echo_plugin.js";

const plugin = new EchoPlugin(pluginEnvironment());

const context = pluginContext();

// Called as the runner calls any plugin: through the Plugin interface, with a context.
const asPlugin: AnyPlugin = plugin;

describe("EchoPlugin", () => {
  it("is named echo with the alias test", () => {
    expect(plugin.name).toBe("echo");
    expect(plugin.aliases).toEqual(["test"]);
    expect(plugin.description.length).toBeGreaterThan(0);
  });

  it("returns the text unchanged", async () => {
    await expect(asPlugin.execute({ text: "hello" }, context)).resolves.toBe("hello");
    await expect(asPlugin.execute({ text: "  spaced\n lines  " }, context)).resolves.toBe("  spaced\n lines  ");
    await expect(asPlugin.execute({ text: "" }, context)).resolves.toBe("");
  });

  it("accepts { text }", () => {
    expect(plugin.inputSchema.safeParse({ text: "x" })).toMatchObject({ success: true, data: { text: "x" } });
  });

  it.each<[string, unknown]>([
    ["missing text", {}],
    ["text that is not a string", { text: 5 }],
    ["an extra key", { text: "x", extra: 1 }],
    ["not an object", "x"],
    ["text over 100,000 characters", { text: "x".repeat(100_001) }],
  ])("rejects %s", (_label, input) => {
    expect(plugin.inputSchema.safeParse(input).success).toBe(false);
  });

  it("reads any text as the text to echo", () => {
    expect(plugin.inputFromText("hi there")).toEqual({ text: "hi there" });
    expect(plugin.inputFromText("")).toEqual({ text: "" });
  });

  it("has a no-op lifecycle", async () => {
    await expect(plugin.initialize()).resolves.toBeUndefined();
    await expect(plugin.shutdown()).resolves.toBeUndefined();
  });
});
