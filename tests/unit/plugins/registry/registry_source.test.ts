import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it, expect } from "vitest";
import { RegistryError, pluginModuleOf, registryFileName, renderRegistry, scanPluginFolder } from "../../../../src/plugins/registry/registry_source.js";
import { pluginClasses, pluginNames } from "../../../../plugins/index.js";
import { pluginEnvironment } from "../../../support/plugin_context.js";

const pluginsFolder = fileURLToPath(new URL("../../../../plugins/", import.meta.url));

function registryErrorOf(folder: string): RegistryError {
  try {
    scanPluginFolder(folder);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    return error as RegistryError;
  }
  throw new Error("expected a RegistryError");
}

describe("pluginModuleOf", () => {
  it("derives the plugin name and class from the file name", () => {
    expect(pluginModuleOf("calculator_plugin.ts")).toEqual({ file: "calculator_plugin.ts", name: "calculator", className: "CalculatorPlugin" });
    expect(pluginModuleOf("web_search_plugin.ts")).toEqual({ file: "web_search_plugin.ts", name: "web_search", className: "WebSearchPlugin" });
    expect(pluginModuleOf("h2o_plugin.ts")).toEqual({ file: "h2o_plugin.ts", name: "h2o", className: "H2oPlugin" });
  });

  it.each(["Calculator.ts", "calc-plugin.ts", "calculator_plugin.js", "_plugin.ts", "Calc_plugin.ts", "calc__x_plugin.ts", "1calc_plugin.ts", "index.ts"])(
    "does not take %s as a plugin file",
    (file) => {
      expect(pluginModuleOf(file)).toBeUndefined();
    },
  );
});

describe("the checked-in registry", () => {
  it("plugins/index.ts is what the generator writes for the plugins folder", () => {
    const expected = renderRegistry(scanPluginFolder(pluginsFolder));
    const actual = readFileSync(join(pluginsFolder, registryFileName), "utf8");
    expect(actual, "plugins/index.ts is out of date: run npm run plugins:generate").toBe(expected);
  });

  it("registers every plugin class under the name in pluginNames", () => {
    expect(pluginClasses.length).toBe(pluginNames.length);
    expect(pluginClasses.length).toBeGreaterThan(0);
    pluginClasses.forEach((Cls, index) => {
      expect(new Cls(pluginEnvironment()).name, `plugin class #${index} (${Cls.name})`).toBe(pluginNames[index]);
    });
  });

  it("lists the plugins in file-name order", () => {
    expect([...pluginNames]).toEqual([...pluginNames].sort());
  });
});

describe("renderRegistry", () => {
  it("imports each class from its .js file and lists classes and names in the same order", () => {
    const text = renderRegistry([
      { file: "alpha_plugin.ts", name: "alpha", className: "AlphaPlugin" },
      { file: "web_search_plugin.ts", name: "web_search", className: "WebSearchPlugin" },
    ]);
    expect(text).toContain('import { AlphaPlugin } from "./alpha_plugin.js";');
    expect(text).toContain('import { WebSearchPlugin } from "./web_search_plugin.js";');
    expect(text).toContain("export const pluginClasses: readonly PluginClass[] = [\n  AlphaPlugin,\n  WebSearchPlugin,\n];");
    expect(text).toContain('export const pluginNames: readonly string[] = [\n  "alpha",\n  "web_search",\n];');
    expect(text.endsWith("\n")).toBe(true);
  });
});

describe("scanPluginFolder", () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), "plugins-"));
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it("finds well-named plugins in file-name order and skips index.ts and subfolders", () => {
    writeFileSync(join(folder, "zeta_plugin.ts"), "export class ZetaPlugin {}\n");
    writeFileSync(join(folder, "alpha_plugin.ts"), "export  class AlphaPlugin extends BasePlugin {}\n");
    writeFileSync(join(folder, "index.ts"), "// generated\n");
    mkdirSync(join(folder, "helpers"));
    writeFileSync(join(folder, "helpers", "Not A Plugin.ts"), "export const x = 1;\n");
    mkdirSync(join(folder, "Bad_Folder"));
    expect(scanPluginFolder(folder)).toEqual([
      { file: "alpha_plugin.ts", name: "alpha", className: "AlphaPlugin" },
      { file: "zeta_plugin.ts", name: "zeta", className: "ZetaPlugin" },
    ]);
  });

  it("names a badly named file and the convention", () => {
    writeFileSync(join(folder, "Calculator.ts"), "export class CalculatorPlugin {}\n");
    const error = registryErrorOf(folder);
    expect(error.name).toBe("RegistryError");
    expect(error.message).toContain("Calculator.ts");
    expect(error.message).toContain("<name>_plugin.ts");
    expect(error.message).toContain("snake_case");
  });

  it("names a well-named file that does not export the expected class", () => {
    writeFileSync(join(folder, "web_search_plugin.ts"), "export class WebSearch {}\nexport class Other {}\n");
    const error = registryErrorOf(folder);
    expect(error.message).toContain("web_search_plugin.ts");
    expect(error.message).toContain("WebSearchPlugin");
  });

  it("does not accept a class whose name only starts with the expected one", () => {
    writeFileSync(join(folder, "echo_plugin.ts"), "export class EchoPluginV2 {}\n");
    expect(registryErrorOf(folder).message).toContain("must export class EchoPlugin");
  });

  it("reports every problem in one error", () => {
    writeFileSync(join(folder, "calc-plugin.ts"), "");
    writeFileSync(join(folder, "echo_plugin.ts"), "class EchoPlugin {}\n");
    writeFileSync(join(folder, "good_plugin.ts"), "export class GoodPlugin {}\n");
    const error = registryErrorOf(folder);
    expect(error.message).toContain("calc-plugin.ts");
    expect(error.message).toContain("EchoPlugin");
    expect(error.message).not.toContain("good_plugin.ts");
  });
});
