import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export type BenchServer = "bare_server" | "adapter_floor_server" | "mcp_sdk_floor_server" | "mcp_sdk_low_level_floor_server" | "azurite_server";

const serversDir = fileURLToPath(new URL(".", import.meta.url));
const buildDir = fileURLToPath(new URL("../.build/servers", import.meta.url));

/** Transpiles the benchmark's own servers to plain JavaScript, so that `node` runs them without a loader. */
export async function buildServers(names: readonly BenchServer[]): Promise<void> {
  await build({
    entryPoints: names.map((name) => `${serversDir}${name}.ts`),
    outdir: buildDir,
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "warning",
  });
}

/** The built script of a server, to run with `node`. */
export function serverScript(name: BenchServer): string {
  return `${buildDir}/${name}.js`;
}
