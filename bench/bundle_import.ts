/**
 * Cold start of the Functions bundle as Azure pays it: a fresh `node` process imports the file
 * package.json "main" names (dist/functions/main.js) and the process ends. Measured against a
 * minimal Functions app (bench/minimal_app/main.ts: one HTTP function registered with
 * `@azure/functions`, nothing else) bundled with the same esbuild settings, the runs alternating
 * so that a busy moment of the machine hits both alike.
 *
 * Per run: wall time from spawn to exit (as seen from here), the child's own CPU time (user +
 * system, from process.cpuUsage() after the import) and its peak RSS (process.resourceUsage().maxRSS).
 * Both bundles see the same stand-in for `@azure/functions-core` (the module the Functions worker
 * provides; tests/e2e/functions_bundle.test.ts uses the same), so each registers its functions as
 * in the worker.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
// @ts-expect-error -- esbuild.config.mjs is plain JavaScript without declarations.
import { bundleOptions } from "../esbuild.config.mjs";
import { outputBytes, staticClosure } from "./import_graph.js";
import { median } from "./stats.js";

const buildDir = fileURLToPath(new URL(".build/", import.meta.url));
export const functionsBundle = fileURLToPath(new URL("../dist/functions/main.js", import.meta.url));
const minimalEntry = fileURLToPath(new URL("minimal_app/main.ts", import.meta.url));
const minimalOut = `${buildDir}minimal_app`;
const workerStandInDir = `${buildDir}functions-core`;
/** Keeps any request to the Azure instance metadata service on the loopback interface (see the file). */
export const loopbackOnly = fileURLToPath(new URL("loopback_only.mjs", import.meta.url));

/** The settings Azure gives every instance, less secrets: nothing at import reaches a network. */
export const azureLikeEnvironment: Readonly<Record<string, string>> = {
  WEBSITE_INSTANCE_ID: "bench-instance",
  FUNCTIONS_WORKER_RUNTIME: "node",
  AUTH_MODE: "jwt",
  AUTH_JWT_ISSUER: "https://login.microsoftonline.com/tenant/v2.0",
  AUTH_JWT_AUDIENCE: "api://codex",
  STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
};

/** Telemetry on, as Azure always has it; the ingestion endpoint is a closed loopback port, so nothing leaves the machine. */
export const telemetryEnvironment: Readonly<Record<string, string>> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/",
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
  // As infra/ sets it: the exporter authenticates with the managed identity (Application Insights refuses the key alone).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD",
};

const root = fileURLToPath(new URL("..", import.meta.url));
export const appMetafile = `${root}dist/metafile.json`;

/** Bundles the minimal Functions app with the app's own esbuild settings; returns its entry file and the bytes its import reads. */
export async function buildMinimalApp(): Promise<{ file: string; loadedBytes: number }> {
  const result = await build({ ...bundleOptions, entryPoints: [minimalEntry], outdir: minimalOut, metafile: true, logLevel: "warning" });
  const entry = relative(process.cwd(), `${minimalOut}/main.js`);
  const metafile = result.metafile!;
  return { file: `${minimalOut}/main.js`, loadedBytes: outputBytes(metafile, staticClosure(metafile, entry)) };
}

/** The bytes importing dist/functions/main.js reads (it and the chunks it imports statically), from the build's metafile. */
export function functionsBundleLoadedBytes(): number {
  const metafile = JSON.parse(readFileSync(appMetafile, "utf8")) as Metafile;
  return outputBytes(metafile, staticClosure(metafile, "dist/functions/main.js"));
}

export function writeWorkerStandIn(): string {
  mkdirSync(`${workerStandInDir}/@azure/functions-core`, { recursive: true });
  // Under bench/, the repository's package.json ("type": "module") would make index.js an ES module.
  writeFileSync(
    `${workerStandInDir}/@azure/functions-core/package.json`,
    JSON.stringify({ name: "@azure/functions-core", type: "commonjs", main: "index.js" }),
  );
  writeFileSync(
    `${workerStandInDir}/@azure/functions-core/index.js`,
    `module.exports = {
  setProgrammingModel() {}, getProgrammingModel() {}, log() {},
  registerHook() { return { dispose() {} }; },
  // Kept for bench/first_invocation.ts, which calls a registered handler after the import.
  registerFunction(metadata, callback) { (globalThis.__registrations ??= []).push({ metadata, callback }); return { dispose() {} }; },
};\n`,
  );
  return workerStandInDir;
}

export interface ImportSample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
}

export interface ImportTarget {
  readonly name: string;
  readonly file: string;
  readonly env: Readonly<Record<string, string>>;
  /** Bytes of the entry file and of every chunk it imports statically: what the import reads and parses. */
  readonly loadedBytes: number;
}

const driver = (file: string) => `
await import(${JSON.stringify(pathToFileURL(file).href)});
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS }) + "\\n");
process.exit(0);
`;

/**
 * A fresh `node` process that runs `script` (with the preload every bundle gets, so that the
 * comparison stays fair) and prints a JSON line last: that line, and the wall time from spawn to exit.
 */
export function runFresh<Report>(
  name: string,
  script: string,
  env: Readonly<Record<string, string>>,
  nodePath: string,
  nodeFlags: readonly string[] = [],
): Promise<{ wallMs: number; report: Report }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", pathToFileURL(loopbackOnly).href, ...nodeFlags, "--input-type=module", "-e", script], {
      env: { PATH: process.env.PATH ?? "", NODE_PATH: nodePath, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const wallMs = performance.now() - started;
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`${name}: failed (exit ${code})\n${err.slice(-3000)}${out.slice(-1000)}`));
        return;
      }
      resolve({ wallMs, report: JSON.parse(line) as Report });
    });
  });
}

/** One fresh process that imports `target.file` and exits. */
export async function importOnce(target: ImportTarget, nodePath: string, nodeFlags: readonly string[] = []): Promise<ImportSample> {
  const { wallMs, report } = await runFresh<{ cpuMs: number; maxRssKb: number }>(target.name, driver(target.file), target.env, nodePath, nodeFlags);
  return { wallMs, cpuMs: report.cpuMs, peakRssMb: report.maxRssKb / 1024 };
}

export interface ImportSummary {
  readonly name: string;
  readonly file: string;
  /** Bytes of the entry file and of every file it imports statically (what the import reads), and of the whole output (with the chunks loaded on demand). */
  readonly loadedBytes: number;
  readonly samples: readonly ImportSample[];
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
}

/**
 * `runs` imports of every target, round-robin (A B C A B C …) after one discarded warm-up round
 * that fills the file cache; medians per target.
 */
export async function measureImports(targets: readonly ImportTarget[], runs: number): Promise<ImportSummary[]> {
  const nodePath = writeWorkerStandIn();
  for (const target of targets) await importOnce(target, nodePath);
  const samples = targets.map(() => [] as ImportSample[]);
  for (let i = 0; i < runs; i++) {
    for (const [index, target] of targets.entries()) samples[index]!.push(await importOnce(target, nodePath));
  }
  return targets.map((target, index) => {
    const list = samples[index]!;
    return {
      name: target.name,
      file: target.file,
      loadedBytes: target.loadedBytes,
      samples: list,
      wallMs: median(list.map((s) => s.wallMs)),
      cpuMs: median(list.map((s) => s.cpuMs)),
      peakRssMb: median(list.map((s) => s.peakRssMb)),
    };
  });
}

/** `tsx bench/bundle_import.ts [runs]`: the cold-start row of `npm run bench` alone, against the minimal app (build first). */
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 15);
  const minimalApp = await buildMinimalApp();
  const [minimal, bundle] = await measureImports(
    [
      { name: "minimal Functions app", file: minimalApp.file, env: azureLikeEnvironment, loadedBytes: minimalApp.loadedBytes },
      { name: "dist/functions/main.js", file: functionsBundle, env: azureLikeEnvironment, loadedBytes: functionsBundleLoadedBytes() },
    ],
    runs,
  );
  console.log(`${runs} imports each, alternating, medians.`);
  console.log("| bundle | loaded | wall ms | CPU ms | peak RSS MB | wall × minimal | CPU × minimal |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of [minimal!, bundle!]) {
    console.log(
      `| ${row.name} | ${(row.loadedBytes / 1024).toFixed(0)} KiB | ${row.wallMs.toFixed(0)} | ${row.cpuMs.toFixed(0)} | ${row.peakRssMb.toFixed(0)} | ${(row.wallMs / minimal!.wallMs).toFixed(2)}× | ${(row.cpuMs / minimal!.cpuMs).toFixed(2)}× |`,
    );
  }
}
