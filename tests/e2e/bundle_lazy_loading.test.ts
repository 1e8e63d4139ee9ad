import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { packagesIn } from "../../bench/import_graph.js";
import { startIngestionStandIn } from "../support/ingestion_stand_in.js";
import { startLoopbackServer, stopLoopbackServer } from "../support/loopback_server.js";

const root = join(import.meta.dirname, "..", "..");
const functionsBundle = join(root, "dist", "functions", "main.js");
/** Keeps any request to the Azure instance metadata service on this machine, and says so on stderr. */
const loopbackOnly = join(root, "bench", "loopback_only.mjs");

/**
 * The bundle loaded as the Functions worker loads it, with a module hook that writes down every
 * file Node reads: which of the build's chunks were evaluated at start and after each request, and
 * so (through esbuild's metafile) which packages. The metafile test (tests/unit/deployment/
 * import_graph.test.ts) reads the graph; this one watches the process.
 */
const hooks = `
import { appendFileSync } from "node:fs";
// FAIL_ONCE: the file whose first read fails, as a chunk that cannot be read would.
let failed = false;
export async function load(url, context, next) {
  if (process.env.FAIL_ONCE && url.endsWith(process.env.FAIL_ONCE) && !failed) {
    failed = true;
    throw new Error("simulated failure to read " + url);
  }
  if (url.startsWith("file:")) appendFileSync(process.env.LOADED_LOG, url + "\\n");
  return next(url, context);
}
`;

const workerStandIn = `
globalThis.__registrations = [];
module.exports = {
  setProgrammingModel() {}, getProgrammingModel() {}, log() {},
  registerHook(type, callback) { globalThis.__hooks.push({ type, callback }); return { dispose() {} }; },
  registerFunction(metadata, callback) { globalThis.__registrations.push({ metadata, callback }); return { dispose() {} }; },
};
globalThis.__hooks = [];
`;

const driver = (bundle: string, pauseAfterStartMs: number) => `
import { readFileSync } from "node:fs";
const loaded = () => readFileSync(process.env.LOADED_LOG, "utf8").split("\\n").filter(Boolean);
const { HttpRequest, InvocationContext } = (await import("@azure/functions")).default;
await import(${JSON.stringify(pathToFileURL(bundle).href)});
const atStart = loaded();
await new Promise((resolve) => setTimeout(resolve, ${pauseAfterStartMs}));
const callback = (name) => globalThis.__registrations.find((r) => r.metadata.name === name).callback;
const health = () => callback("health")(new HttpRequest({ method: "GET", url: "http://localhost/api/health" }), new InvocationContext({ functionName: "health" }));
const execute = (body) =>
  callback("plugins-execute")(
    new HttpRequest({ method: "POST", url: "http://localhost/api/plugins/execute", body: { string: JSON.stringify(body) } }),
    new InvocationContext({ functionName: "plugins-execute" }),
  );
const statuses = [];
const failures = [];
// An invocation that throws (its module could not be read) is recorded and tried once more, as a caller would.
const attempt = async (call) => {
  for (let tries = 0; tries < 2; tries++) {
    try {
      return statuses.push((await call()).status ?? 200);
    } catch (error) {
      failures.push(String(error));
    }
  }
  statuses.push("failed");
};
if (process.env.HEALTH_FIRST) await attempt(health);
const afterHealth = loaded();
await attempt(() => execute({ plugin: "echo", data: { text: "hi" } }));
const afterEcho = loaded();
await attempt(() => execute({ plugin: "echo", data: { text: "again" } }));
const afterSecondEcho = loaded();
await attempt(() => execute({ plugin: "echo", data: { text: "later" }, async: true }));
const afterAsync = loaded();
if (process.env.HEALTH_FIRST) await attempt(health);
// The host stopping the worker: the app's appTerminate hook closes the services and flushes telemetry.
for (const hook of globalThis.__hooks.filter((h) => h.type === "appTerminate")) await hook.callback({ hookData: {}, appHookData: {} });
const afterShutdown = loaded();
console.log(JSON.stringify({ atStart, afterHealth, afterEcho, afterSecondEcho, afterAsync, afterShutdown, statuses, failures }));
process.exit(0);
`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lazy-loading-"));
  mkdirSync(join(dir, "node_modules", "@azure", "functions-core"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "@azure", "functions-core", "index.js"), workerStandIn);
  writeFileSync(join(dir, "hooks.mjs"), hooks);
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The output file (a chunk loaded on demand) that holds the module `source`, from the build's metafile. */
function outputHolding(metafile: Metafile, source: string): string {
  const outputs = Object.entries(metafile.outputs).filter(([output, file]) => output.endsWith(".js") && source in file.inputs);
  expect(
    outputs.map(([output]) => output),
    source,
  ).toHaveLength(1);
  return outputs[0]![0];
}

const readMetafile = () => JSON.parse(readFileSync(join(root, "dist", "metafile.json"), "utf8")) as Metafile;

/**
 * Loads the bundle, (with HEALTH_FIRST, calls health), runs two echoes (after `pauseAfterStartMs`)
 * and an asynchronous echo, (calls health again), then stops it as the host does; the files and
 * packages evaluated by each point.
 */
async function run(env: Record<string, string>, pauseAfterStartMs = 0) {
  const log = join(dir, `loaded-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, "");
  // Not spawnSync: the ingestion stand-in of a test answers from this process while the child runs.
  const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        pathToFileURL(loopbackOnly).href,
        "--import",
        pathToFileURL(join(dir, "register.mjs")).href,
        "--input-type=module",
        "-e",
        driver(functionsBundle, pauseAfterStartMs),
      ],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          NODE_PATH: join(dir, "node_modules"),
          LOADED_LOG: log,
          STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
          ...env,
        },
        timeout: 30_000,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
  expect(result.status, result.stderr).toBe(0);
  type Point = "atStart" | "afterHealth" | "afterEcho" | "afterSecondEcho" | "afterAsync" | "afterShutdown";
  const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<Point, string[]> & { statuses: (number | "failed")[]; failures: string[] };
  const metafile = readMetafile();
  const outputsOf = (urls: string[]) => urls.map((url) => relative(root, fileURLToPath(url))).filter((file) => file in metafile.outputs);
  const packages = (urls: string[]) => [...packagesIn(metafile, outputsOf(urls)).keys()];
  /** The sources (paths as in the metafile) of the build's files that were read. */
  const sources = (urls: string[]) => outputsOf(urls).flatMap((output) => Object.keys(metafile.outputs[output]!.inputs));
  return {
    statuses: report.statuses,
    failures: report.failures,
    outputs: Object.fromEntries(
      (["atStart", "afterHealth", "afterEcho", "afterSecondEcho", "afterAsync"] as const).map((point) => [point, outputsOf(report[point])]),
    ) as Record<Point, string[]>,
    atStart: packages(report.atStart),
    afterEcho: packages(report.afterEcho),
    afterAsync: packages(report.afterAsync),
    afterShutdown: packages(report.afterShutdown),
    sourcesAtStart: sources(report.atStart),
    sourcesAfterShutdown: sources(report.afterShutdown),
    files: report.atStart,
    stderr: result.stderr,
  };
}

const heavy = [
  "openai",
  "@huggingface/inference",
  "@azure/storage-queue",
  "@azure/storage-blob",
  "@azure/data-tables",
  "@azure/identity",
  "@azure/monitor-opentelemetry-exporter",
  "@opentelemetry/sdk-trace-base",
  "ioredis",
];

describe("the Functions bundle loads heavy clients on first use", () => {
  it("evaluates none at start nor for a plain run; the queue client on the first asynchronous run", async () => {
    const { statuses, atStart, afterEcho, afterAsync, files } = await run({});
    expect(statuses).toEqual([200, 200, 202]);
    // The hook saw the bundle itself: the check is looking at the right process.
    expect(files.some((url) => url.endsWith("/dist/functions/main.js"))).toBe(true);
    expect(atStart).toContain("@azure/functions");
    for (const name of heavy) {
      expect(atStart, name).not.toContain(name);
      expect(afterEcho, name).not.toContain(name);
    }
    expect(afterAsync).toContain("@azure/storage-queue");
    expect(afterAsync).not.toContain("openai");
    expect(afterAsync).not.toContain("@huggingface/inference");
  });

  it("with APPLICATIONINSIGHTS_CONNECTION_STRING set, starts the telemetry SDK at start and evaluates the Azure Monitor exporter when the first spans are exported", async () => {
    const ingestion = await startIngestionStandIn();
    // The platform's managed identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER on a Flex Consumption instance).
    const tokenRequests: string[] = [];
    const identity = await startLoopbackServer(async (req, res) => {
      tokenRequests.push(req.url!);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ access_token: "token", expires_on: String(Math.floor(Date.now() / 1000) + 3600), token_type: "Bearer" }));
    });
    try {
      const { atStart, afterShutdown, sourcesAtStart, sourcesAfterShutdown, statuses, stderr } = await run(
        {
          APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
          // The ingestion stand-in's certificate is self-signed.
          NODE_TLS_REJECT_UNAUTHORIZED: "0",
          APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
          // Statsbeat off entirely (the exporter reads this older name for its essential part): nothing leaves the machine.
          APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
          // What the platform sets on every Flex Consumption instance.
          FUNCTIONS_WORKER_RUNTIME: "node",
          WEBSITE_SITE_NAME: "codexcontinue",
          WEBSITE_SKU: "FlexConsumption",
          IDENTITY_ENDPOINT: `${identity.url}/msi/token`,
          IDENTITY_HEADER: "instance-secret",
          // As infra/ sets it: the exporter authenticates with the managed identity.
          APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD",
          // Azure Monitor's sampler allows 5 traces a second, measured from its start: a trace that begins
          // within 200 ms of it may be left out, one after that is kept (bench/README.md, "Cold start").
        },
        500,
      );
      expect(statuses).toEqual([200, 200, 202]);
      // Telemetry started: every span from the first request on is recorded.
      expect(atStart).toContain("@opentelemetry/sdk-trace-base");
      expect(atStart).toContain("@opentelemetry/sdk-logs");
      // The exporters, their sender and client are not read at start (only the package's sampler is, which every span needs), nor what they bring.
      const exporterCode = (sources: string[]) =>
        sources.filter((source) => /@azure\/monitor-opentelemetry-exporter\/dist\/esm\/(export|platform|generated)\//.test(source));
      expect(exporterCode(sourcesAtStart)).toEqual([]);
      for (const name of ["@azure/core-rest-pipeline", "@opentelemetry/sdk-metrics", "@azure/identity"]) expect(atStart, name).not.toContain(name);
      // The host's stop flushes the buffered spans and log records: the exporters are loaded and deliver them.
      expect(exporterCode(sourcesAfterShutdown)).toEqual(
        expect.arrayContaining([expect.stringMatching(/export\/trace\.js$/), expect.stringMatching(/export\/log\.js$/)]),
      );
      expect(afterShutdown).toContain("@azure/core-rest-pipeline");
      const delivered = ingestion.envelopes.map((e) => `${e.data?.baseType} ${e.data?.baseData?.name ?? ""}`);
      expect(delivered).toEqual(expect.arrayContaining(["RequestData POST /api/plugins/execute", "RemoteDependencyData plugin echo"]));
      expect(ingestion.envelopes.some((e) => e.data?.baseType === "MessageData")).toBe(true);
      // With a token of the user-assigned identity, asked for by the first export.
      expect(tokenRequests.length).toBeGreaterThan(0);
      expect(new URL(tokenRequests[0]!, "http://127.0.0.1").searchParams.get("client_id")).toBe("00000000-0000-0000-0000-000000000001");
      // The resource comes from the instance's settings: no request to the Azure VM metadata service, at start or at export.
      expect(stderr).not.toContain("instance metadata service");
      expect(atStart).not.toContain("openai");
      expect(atStart).not.toContain("@azure/storage-queue");
    } finally {
      await ingestion.close();
      await stopLoopbackServer(identity.server, new Set());
    }
  });

  it("loads a function's module on its first invocation, not at start nor for another function, and not again for the second", async () => {
    const { statuses, outputs } = await run({ HEALTH_FIRST: "1" });
    expect(statuses).toEqual([200, 200, 200, 202, 200]);
    const metafile = readMetafile();
    const executeChunk = outputHolding(metafile, "functions/plugins_execute.ts");
    const healthChunk = outputHolding(metafile, "functions/health.ts");
    const servicesChunk = outputHolding(metafile, "src/services.ts");
    expect(outputs.atStart).toContain("dist/functions/main.js");
    for (const chunk of [executeChunk, healthChunk, servicesChunk]) expect(outputs.atStart, chunk).not.toContain(chunk);
    // Health's first invocation: its own module and the services (with the plugins), not the execute function's.
    expect(outputs.afterHealth).toEqual(expect.arrayContaining([healthChunk, servicesChunk]));
    expect(outputs.afterHealth).not.toContain(executeChunk);
    expect(outputs.afterEcho).toContain(executeChunk);
    // The second invocation finds everything loaded: no file is read for it.
    expect(outputs.afterSecondEcho).toEqual(outputs.afterEcho);
  });

  it("fails only the invocations of a function whose module cannot be read, and keeps serving the others", async () => {
    const executeChunk = outputHolding(readMetafile(), "functions/plugins_execute.ts");
    const { statuses, failures } = await run({ HEALTH_FIRST: "1", FAIL_ONCE: executeChunk.replace(/^dist\//, "/dist/") });
    // The host is handed the error (it answers 500); the process goes on. The load is asked for again
    // on the next invocation (memoize forgets a failure), but Node 20 keeps a module that failed to load
    // for the life of the process, so there this function fails until the worker restarts. Health, before and after, answers.
    expect(failures[0]).toContain("simulated failure to read");
    expect(statuses).toHaveLength(5);
    expect([statuses[0], statuses[4]]).toEqual([200, 200]);
  });
});
