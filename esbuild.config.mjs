// Bundles the app into single files: the Functions host loads dist/functions/main.js (package.json "main").
// `node esbuild.config.mjs --watch` rebuilds on every change (the container's development mode).
import { build, context } from "esbuild";

const options = {
  entryPoints: ["functions/main.ts", "src/host/start.ts", "src/cli/main.ts"],
  outdir: "dist",
  outbase: ".",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  // Provided by the Functions worker at run time; Azurite is a development dependency that the local host loads from node_modules.
  // The MCP SDK too is loaded from node_modules, by the local host's first MCP request (a dynamic import); no bundle contains it.
  external: ["@azure/functions-core", "azurite", "@modelcontextprotocol/sdk"],
  // Bundled CommonJS dependencies call require(); an ES module bundle has to provide it.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
};

if (process.argv.includes("--watch")) {
  const watcher = await context({ ...options, logLevel: "info" });
  await watcher.watch();
} else {
  await build(options);
}
