// Bundles the app: the Functions host loads dist/functions/main.js (package.json "main").
// `node esbuild.config.mjs --watch` rebuilds on every change (the container's development mode).
//
// Code splitting: what a module loads with a dynamic `import()` (the LLM, Hugging Face, queue and
// telemetry clients, Azurite's wrapper; see bench/README.md, "Cold start") goes into its own file
// under dist/chunks/ and is read only when first used, so a new instance parses and evaluates just
// what serving a request needs. dist/ is deployed as a whole (.funcignore, Dockerfile).
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, context } from "esbuild";

/**
 * zod re-exports all of its ~50 message locales from its `z` object (`z.locales`), so every
 * bundle that imports zod would carry all of them (about half of zod's code) although zod uses
 * only English unless told otherwise, and the app never does. Its locale index is replaced by
 * one that has English only.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * OpenTelemetry's packages ship CommonJS as "main" and ES modules as "module", most without an
 * "exports" map; on platform node esbuild takes "main", and CommonJS is bundled whole: each
 * `require("@opentelemetry/semantic-conventions")` in them brought all 180 kB of it into the
 * telemetry that starts with every instance (bench/README.md, "Cold start"). Their ES modules are
 * taken instead (the same code, published beside it), so that only what is used is bundled.
 * Packages with an "exports" map are left to it.
 */
const openTelemetryEsModules = {
  name: "opentelemetry-es-modules",
  setup(build) {
    build.onResolve({ filter: /^@opentelemetry\/[^/]+$/ }, (args) => {
      // The package as Node finds it from the importing file: the nearest node_modules upwards.
      for (let dir = args.resolveDir; ; dir = dirname(dir)) {
        const manifest = join(dir, "node_modules", args.path, "package.json");
        if (existsSync(manifest)) {
          const { module, exports } = JSON.parse(readFileSync(manifest, "utf8"));
          return module && !exports ? { path: join(dirname(manifest), module) } : undefined;
        }
        if (dirname(dir) === dir) return undefined;
      }
    });
  },
};

/** The settings every bundle of the app is built with; bench/ builds its minimal Functions app with the same. */
export const bundleOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  // Whitespace and syntax only: identifiers keep their names, so classes and functions keep theirs
  // (error names, `constructor.name` in dependencies, stack traces and CPU profiles stay readable),
  // without esbuild's keepNames, which would rename every closure through a helper call each time
  // it is created, on the request path too.
  minifyWhitespace: true,
  minifySyntax: true,
  // Stack traces map back to the sources with `node --enable-source-maps`; the maps are not deployed (.funcignore).
  sourcemap: true,
  logLevel: "warning",
  plugins: [zodEnglishOnly, openTelemetryEsModules],
  // Provided by the Functions worker at run time; Azurite is a development dependency that the local host loads from node_modules.
  external: ["@azure/functions-core", "azurite"],
  // Bundled CommonJS dependencies call require(); an ES module bundle (each of its chunks) has to provide it.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
};

export const options = {
  ...bundleOptions,
  entryPoints: ["functions/main.ts", "src/host/start.ts", "src/cli/main.ts"],
  outdir: "dist",
  outbase: ".",
  // Which output files import which, statically or on demand: tests/unit/deployment/import_graph.test.ts reads it.
  metafile: true,
};

/** Where the build writes esbuild's metafile (not deployed: .funcignore). */
export const metafilePath = "dist/metafile.json";

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
// Chunk names carry a content hash: the chunks of earlier builds would otherwise pile up and be deployed.
if (isMain) rmSync("dist/chunks", { recursive: true, force: true });
if (isMain && process.argv.includes("--watch")) {
  const watcher = await context({
    ...options,
    logLevel: "info",
    plugins: [
      ...bundleOptions.plugins,
      { name: "metafile", setup: (b) => b.onEnd((r) => r.metafile && writeFileSync(metafilePath, JSON.stringify(r.metafile))) },
    ],
  });
  await watcher.watch();
} else if (isMain) {
  const result = await build(options);
  writeFileSync(metafilePath, JSON.stringify(result.metafile));
}
