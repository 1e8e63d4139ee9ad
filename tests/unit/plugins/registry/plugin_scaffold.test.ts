import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scaffoldPlugin } from "../../../../src/plugins/registry/plugin_scaffold.js";
import { pluginContext, pluginEnvironment } from "../../../support/plugin_context.js";

const repo = join(import.meta.dirname, "..", "..", "..", "..");
let root: string;

// A throwaway project root that shares src/ and node_modules with this one, so the scaffold is
// really compiled and run without touching the real plugins folder.
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "scaffold-"));
  mkdirSync(join(root, "plugins"));
  symlinkSync(join(repo, "src"), join(root, "src"));
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("scaffoldPlugin", () => {
  it("writes a plugin that loads, validates and runs, its test, and the registry entry", async () => {
    const result = scaffoldPlugin(root, "web_search");
    expect(result.className).toBe("WebSearchPlugin");
    expect(result.pluginFile).toBe(join(root, "plugins", "web_search_plugin.ts"));
    expect(readFileSync(result.testFile, "utf8")).toContain('import { WebSearchPlugin } from "../../../plugins/web_search_plugin.js"');
    expect(readFileSync(join(root, "plugins", "index.ts"), "utf8")).toContain('import { WebSearchPlugin } from "./web_search_plugin.js";');

    const module = await import(pathToFileURL(result.pluginFile).href);
    const plugin = new module.WebSearchPlugin(pluginEnvironment());
    expect(plugin.name).toBe("web_search");
    expect(plugin.inputSchema.safeParse({}).success).toBe(false);
    await expect(plugin.execute(plugin.inputFromText("hi"), pluginContext())).resolves.toBe("hi");
  });

  it.each(["Weather", "web-search", "web_search_plugin", "1st", ""])("refuses the name %j", (name) => {
    expect(() => scaffoldPlugin(root, name)).toThrow(/not a plugin name/);
    expect(existsSync(join(root, "plugins", "index.ts"))).toBe(false);
  });

  it("never overwrites an existing plugin", () => {
    writeFileSync(join(root, "plugins", "weather_plugin.ts"), "// mine\n");
    expect(() => scaffoldPlugin(root, "weather")).toThrow(/already exists/);
    expect(readFileSync(join(root, "plugins", "weather_plugin.ts"), "utf8")).toBe("// mine\n");
  });
});
