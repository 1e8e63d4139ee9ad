import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { dynamicImports, packageOf, packagesIn, staticClosure } from "../../bench/import_graph.js";

const root = join(import.meta.dirname, "..", "..");
/** Written by every build (esbuild.config.mjs); the global setup builds before the tests run. */
const metafile = JSON.parse(readFileSync(join(root, "dist", "metafile.json"), "utf8")) as Metafile;
const entry = "dist/functions/main.js";

/**
 * Heavy clients that an instance must not parse or evaluate before it needs them (issue 13): each
 * is imported on first use. The MCP SDK (@modelcontextprotocol/server) is loaded by the MCP endpoint on
 * its first request; azurite only by the local host, from node_modules.
 */
const heavy = [
  "openai",
  "@huggingface/inference",
  "@azure/storage-queue",
  "@azure/storage-blob",
  "@azure/data-tables",
  "@azure/identity",
  "@azure/monitor-opentelemetry-exporter",
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/sdk-logs",
  "ioredis",
  "rate-limiter-flexible",
  "azurite",
  "@modelcontextprotocol/server",
  "@modelcontextprotocol/core",
];

/** The heavy packages whose code the output files `outputs` contain, or that they import from node_modules at run time. */
function heavyIn(graph: Metafile, outputs: readonly string[]): string[] {
  const found = new Set<string>();
  for (const name of packagesIn(graph, outputs).keys()) if (heavy.includes(name)) found.add(name);
  for (const output of outputs) {
    for (const imported of graph.outputs[output]!.imports) {
      const name = imported.external ? (packageOf(`node_modules/${imported.path}/`) ?? imported.path) : undefined;
      if (name && heavy.some((h) => name === h || name.startsWith(`${h}/`))) found.add(name);
    }
  }
  return [...found].sort();
}

/** Whether a .gitignore-style pattern list (as .funcignore is read) leaves `path` out; enough of the syntax for the patterns this repository uses. */
function ignored(patterns: readonly string[], path: string): boolean {
  const segments = path.split("/");
  return patterns.some((pattern) => {
    const anchored = pattern.startsWith("/");
    const glob = new RegExp(
      `^${pattern
        .replace(/^\//, "")
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")}$`,
    );
    // A pattern matches a path or any folder above it; without a leading slash, at any depth.
    for (let end = 1; end <= segments.length; end++) {
      for (let start = 0; start < (anchored ? 1 : end); start++) {
        if (glob.test(segments.slice(start, end).join("/"))) return true;
      }
    }
    return false;
  });
}

describe("the deployment package (.funcignore)", () => {
  const patterns = readFileSync(join(root, ".funcignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

  it("ships the Functions entry and every chunk it loads, at start or on demand, and leaves out source maps, the metafile and the local host", () => {
    const reachable = new Set(staticClosure(metafile, entry));
    for (let more = dynamicImports(metafile, [...reachable]); more.length > 0; more = dynamicImports(metafile, [...reachable])) {
      for (const output of more) for (const chunk of staticClosure(metafile, output)) reachable.add(chunk);
    }
    expect(reachable.size).toBeGreaterThan(5);
    for (const output of reachable) expect(ignored(patterns, output), output).toBe(false);
    expect(ignored(patterns, "dist/functions/main.js.map")).toBe(true);
    expect(ignored(patterns, "dist/metafile.json")).toBe(true);
    expect(ignored(patterns, "dist/src/host/start.js")).toBe(true);
    expect(ignored(patterns, "functions/main.ts")).toBe(true);
  });
});

describe("the Functions bundle's import graph (dist/metafile.json)", () => {
  const loadedAtStart = staticClosure(metafile, entry);

  it("loads none of the heavy clients at start: they are not in the entry file nor in any chunk it imports statically", () => {
    expect(heavyIn(metafile, loadedAtStart)).toEqual([]);
    // Nor the app's modules that wrap them.
    const sources = loadedAtStart.flatMap((output) => Object.keys(metafile.outputs[output]!.inputs));
    for (const module of [
      "src/telemetry/telemetry.ts",
      "src/telemetry/functions_host.ts",
      "src/llm/openai_compatible_chat_model.ts",
      "plugins/huggingface/inference_attempt.ts",
      "src/azure/table_clients.ts",
      "src/azure/blob_clients.ts",
      "src/azure/queue_clients.ts",
      "src/azure/azure_credential.ts",
      "src/memory/redis_stores.ts",
      "src/auth/rate_limiter.ts",
      "src/host/embedded_azurite.ts",
    ]) {
      expect(sources, module).not.toContain(module);
    }
  });

  /**
   * What registering the functions needs is @azure/functions, the configuration, the registration
   * table (functions/registrations.ts) with the MCP endpoint's routes: no function's handler module, no
   * plugin, not the services, and not zod's classic API (about 290 KB that cannot be tree-shaken),
   * which the handlers' and plugins' schemas use. Each of those loads on a first invocation.
   */
  const entrySources = () => loadedAtStart.flatMap((output) => Object.keys(metafile.outputs[output]!.inputs));
  const handlerModules = readdirSync(join(root, "functions"))
    .filter((file) => file.endsWith(".ts") && !["main.ts", "registrations.ts", "index.ts"].includes(file))
    .map((file) => `functions/${file}`);
  const pluginModules = readdirSync(join(root, "plugins"))
    .filter((file) => file.endsWith("_plugin.ts"))
    .map((file) => `plugins/${file}`);

  it("registers every function without loading any handler, plugin or service: those are in chunks loaded on demand", () => {
    const sources = entrySources();
    expect(handlerModules.length).toBeGreaterThan(10);
    expect(pluginModules.length).toBeGreaterThan(5);
    for (const module of [...handlerModules, ...pluginModules, "plugins/index.ts", "src/services.ts", "src/http/http_function.ts", "src/mcp/mcp_server.ts"]) {
      expect(sources, module).not.toContain(module);
      expect(Object.keys(metafile.inputs), `${module} is in the build`).toContain(module);
    }
    expect(sources).toContain("functions/registrations.ts");
    expect(sources).toContain("src/mcp/mcp_routes.ts");
    // Of the plugins, only their settings: parsed with the configuration, so that a bad one fails the start.
    const pluginSources = sources.filter((source) => source.startsWith("plugins/"));
    expect(pluginSources).toContain("plugins/shell/settings.ts");
    expect(pluginSources.filter((source) => !/^plugins\/[a-z0-9_]+\/settings\.ts$/.test(source))).toEqual([]);
  });

  it("loads none of zod's classic API at start: the configuration and the plugins' settings parse with zod/mini", () => {
    const zodAtStart = entrySources().filter((source) => packageOf(source) === "zod");
    expect(zodAtStart.filter((source) => source.includes("node_modules/zod/v4/mini/")).length, "the configuration's zod/mini").toBeGreaterThan(0);
    expect(zodAtStart.filter((source) => /node_modules\/zod\/(v4\/classic|v3)\//.test(source))).toEqual([]);
    // The check sees zod where it is: classic zod is in the build, in the chunks loaded on demand.
    expect(Object.keys(metafile.inputs).some((input) => input.includes("node_modules/zod/v4/classic/"))).toBe(true);
  });

  it("still has every bundled heavy client, in chunks loaded on demand (so the check above sees them when they move)", () => {
    const onDemand = new Set<string>();
    let frontier = dynamicImports(metafile, loadedAtStart);
    while (frontier.length > 0) {
      for (const output of frontier) for (const chunk of staticClosure(metafile, output)) onDemand.add(chunk);
      frontier = dynamicImports(metafile, [...onDemand]).filter((output) => !onDemand.has(output));
    }
    const bundled = heavy.filter((name) => name !== "azurite");
    expect(heavyIn(metafile, [...onDemand])).toEqual(expect.arrayContaining(bundled));
  });

  it("would catch a heavy client imported statically, directly or through a shared chunk", () => {
    // A made-up graph: the entry imports a chunk that bundles the MCP SDK, and one that imports azurite from node_modules.
    const graph = {
      inputs: {},
      outputs: {
        "dist/functions/main.js": {
          bytes: 10,
          inputs: { "functions/main.ts": { bytesInOutput: 10 } },
          imports: [
            { path: "dist/chunks/chunk-A.js", kind: "import-statement" },
            { path: "dist/chunks/lazy-B.js", kind: "dynamic-import" },
          ],
          exports: [],
        },
        "dist/chunks/chunk-A.js": {
          bytes: 10,
          inputs: { "node_modules/@modelcontextprotocol/server/dist/index.mjs": { bytesInOutput: 10 } },
          imports: [{ path: "dist/chunks/chunk-C.js", kind: "import-statement" }],
          exports: [],
        },
        "dist/chunks/chunk-C.js": {
          bytes: 10,
          inputs: { "src/host/embedded_azurite.ts": { bytesInOutput: 10 } },
          imports: [{ path: "azurite/dist/src/blob/BlobServer", kind: "import-statement", external: true }],
          exports: [],
        },
        "dist/chunks/lazy-B.js": { bytes: 10, inputs: { "node_modules/openai/index.mjs": { bytesInOutput: 10 } }, imports: [], exports: [] },
      },
    } as unknown as Metafile;
    const atStart = staticClosure(graph, "dist/functions/main.js");
    expect(atStart.sort()).toEqual(["dist/chunks/chunk-A.js", "dist/chunks/chunk-C.js", "dist/functions/main.js"]);
    expect(heavyIn(graph, atStart)).toEqual(["@modelcontextprotocol/server", "azurite"]);
    // openai is only behind an import(): not loaded at start.
    expect(dynamicImports(graph, atStart)).toEqual(["dist/chunks/lazy-B.js"]);
  });
});
