import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { camelName, pluginModuleOf, registryFileName, renderRegistry, scanPluginFolder } from "./registry_source.js";

export interface ScaffoldResult {
  readonly pluginFile: string;
  readonly testFile: string;
  readonly className: string;
}

/**
 * Writes plugins/<name>_plugin.ts and tests/unit/plugins/<name>_plugin.test.ts under `root`,
 * then regenerates the registry. Refuses names outside the convention and existing files.
 */
export function scaffoldPlugin(root: string, name: string): ScaffoldResult {
  const module = pluginModuleOf(`${name}_plugin.ts`);
  if (!module || name.endsWith("_plugin")) {
    throw new Error(`"${name}" is not a plugin name: use lowercase snake_case such as weather or web_search (without _plugin)`);
  }
  const pluginFile = join(root, "plugins", module.file);
  const testDir = join(root, "tests", "unit", "plugins");
  const testFile = join(testDir, `${name}_plugin.test.ts`);
  for (const file of [pluginFile, testFile]) {
    if (existsSync(file)) throw new Error(`${file} already exists`);
  }
  writeFileSync(pluginFile, pluginTemplate(name, module.className));
  mkdirSync(testDir, { recursive: true });
  writeFileSync(testFile, testTemplate(name, module.className));
  const folder = join(root, "plugins");
  writeFileSync(join(folder, registryFileName), renderRegistry(scanPluginFolder(folder)));
  return { pluginFile, testFile, className: module.className };
}

function pluginTemplate(name: string, className: string): string {
  return `import { z } from "zod";
import { BasePlugin, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";

const ${camelName(name)}Input = z.strictObject({
  text: z.string().trim().min(1).max(1000).describe("What the ${name} plugin works on."),
});

type ${className}Input = z.infer<typeof ${camelName(name)}Input>;

/** TODO: say what this plugin does and why a chat would call it. */
export class ${className} extends BasePlugin<${className}Input, string> {
  readonly name = "${name}";
  readonly title = "TODO: a short name for people";
  // Shown in GET /api/plugins and to the LLM: say what it does, what it needs, what it returns.
  readonly description = "TODO: describe the ${name} plugin.";
  // What a run does to the world (MCP clients show these and may ask before a destructive one): say all four.
  readonly annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
  readonly inputSchema = ${camelName(name)}Input;
  // Interactive plugins should answer within five seconds.
  readonly timeoutMs = 5000;

  constructor(private readonly environment: PluginEnvironment) {
    super();
  }

  async execute(data: ${className}Input, context: PluginContext): Promise<string> {
    // Stop early when context.signal aborts (the run timed out or the caller left).
    context.signal.throwIfAborted();
    this.environment.logger.debug("${name} ran", { runId: context.runId });
    return data.text;
  }

  /** What \`/run ${name} <text>\` passes in. */
  inputFromText(text: string): ${className}Input {
    return { text };
  }
}
`;
}

function testTemplate(name: string, className: string): string {
  return `import { describe, expect, it } from "vitest";
import { ${className} } from "../../../plugins/${name}_plugin.js";
import { pluginContext, pluginEnvironment } from "../../support/plugin_context.js";

const plugin = new ${className}(pluginEnvironment());

describe("${className}", () => {
  it("is registered as ${name}", () => {
    expect(plugin.name).toBe("${name}");
  });

  it("accepts valid input and rejects the rest", () => {
    expect(plugin.inputSchema.safeParse({ text: "hello" }).success).toBe(true);
    expect(plugin.inputSchema.safeParse({}).success).toBe(false);
    expect(plugin.inputSchema.safeParse({ text: "x", extra: 1 }).success).toBe(false);
  });

  it("runs", async () => {
    // TODO: replace with what ${name} really returns.
    await expect(plugin.execute(plugin.inputSchema.parse({ text: "hello" }), pluginContext())).resolves.toBe("hello");
  });
});
`;
}
