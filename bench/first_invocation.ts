/**
 * `npx tsx bench/first_invocation.ts [runs]`: what a new instance pays before its first answer,
 * not only before its first invocation. The Functions bundle registers its functions without
 * loading their code, which waits for the first invocation (functions/main.ts); this measures
 * the import and then that first invocation, for an echo execute and for the liveness check,
 * against the minimal Functions app's import and first invocation of its one function, in fresh
 * processes, alternating, medians (bench/README.md, "Cold start"). `npm run bench` writes the
 * same figures into bench/results.md (measureFirstAnswers); run alone, it prints them.
 *
 * The handler is called as the worker calls it, with @azure/functions' HttpRequest and
 * InvocationContext; those classes come from a copy of the library loaded after the import and
 * before the clock starts again, and are left out of both figures. AUTH_MODE=none, so that the
 * echo runs to its answer without a token (it is refused where WEBSITE_INSTANCE_ID is set, so that
 * setting is left out here); in-process memory, no storage call on these paths.
 */
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildMinimalApp, functionsBundle, runFresh, telemetryEnvironment, writeWorkerStandIn } from "./bundle_import.js";
import { median } from "./stats.js";

interface Invocation {
  readonly label: string;
  readonly file: string;
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Settings added to the ones every process gets (telemetry). */
  readonly env?: Readonly<Record<string, string>>;
}

interface Sample {
  readonly importCpuMs: number;
  readonly importWallMs: number;
  readonly invocationCpuMs: number;
  readonly invocationWallMs: number;
  readonly status: number;
  readonly peakRssMb: number;
}

const functionsLibrary = createRequire(import.meta.url).resolve("@azure/functions");

const driver = (invocation: Invocation) => `
const cpu = () => { const used = process.cpuUsage(); return (used.user + used.system) / 1000; };
await import(${JSON.stringify(pathToFileURL(invocation.file).href)});
// performance.now() counts from the process's start, as process.cpuUsage() does.
const importWallMs = performance.now(), importCpuMs = cpu();
const { HttpRequest, InvocationContext } = (await import(${JSON.stringify(pathToFileURL(functionsLibrary).href)})).default;
const body = ${JSON.stringify(invocation.body === undefined ? null : JSON.stringify(invocation.body))};
const request = new HttpRequest({ method: ${JSON.stringify(invocation.method)}, url: "http://localhost" + ${JSON.stringify(invocation.path)}, ...(body === null ? {} : { body: { string: body } }) });
const context = new InvocationContext({ functionName: ${JSON.stringify(invocation.name)} });
const handler = globalThis.__registrations.find((r) => r.metadata.name === ${JSON.stringify(invocation.name)}).callback;
const cpuBefore = cpu(), wallBefore = performance.now();
const response = await handler(request, context);
const invocationWallMs = performance.now() - wallBefore, invocationCpuMs = cpu() - cpuBefore;
process.stdout.write(JSON.stringify({ importCpuMs, importWallMs, invocationCpuMs, invocationWallMs, status: response.status ?? 200, peakRssMb: process.resourceUsage().maxRSS / 1024 }) + "\\n");
process.exit(0);
`;

async function runOnce(invocation: Invocation, nodePath: string): Promise<Sample> {
  const env = { FUNCTIONS_WORKER_RUNTIME: "node", AUTH_MODE: "none", STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true", ...invocation.env };
  return (await runFresh<Sample>(invocation.label, driver(invocation), env, nodePath)).report;
}

/** One process's figures, medians over the runs. */
export interface FirstAnswerRow {
  readonly label: string;
  readonly status: number;
  readonly importCpuMs: number;
  readonly firstAnswerCpuMs: number;
  readonly firstAnswerWallMs: number;
  readonly invocationWallMs: number;
  readonly peakRssMb: number;
}

export interface FirstAnswers {
  readonly runs: number;
  /** The minimal app's first; the ratios are to it. */
  readonly rows: readonly FirstAnswerRow[];
}

const echo = { name: "plugins-execute", method: "POST", path: "/api/plugins/execute", body: { plugin: "echo", data: { text: "hi" } } } as const;

/** `runs` fresh processes per invocation, round-robin after one discarded round; medians. */
export async function measureFirstAnswers(runs: number): Promise<FirstAnswers> {
  const nodePath = writeWorkerStandIn();
  const minimal = await buildMinimalApp();
  const invocations: Invocation[] = [
    { label: "minimal Functions app, GET hello", file: minimal.file, name: "hello", method: "GET", path: "/api/hello" },
    { label: "`dist/functions/main.js`, echo execute", file: functionsBundle, ...echo },
    { label: "`dist/functions/main.js`, echo execute, with telemetry", file: functionsBundle, ...echo, env: telemetryEnvironment },
    { label: "`dist/functions/main.js`, GET health/live", file: functionsBundle, name: "health-live", method: "GET", path: "/api/health/live" },
  ];
  for (const invocation of invocations) await runOnce(invocation, nodePath);
  const samples = invocations.map(() => [] as Sample[]);
  for (let i = 0; i < runs; i++) for (const [index, invocation] of invocations.entries()) samples[index]!.push(await runOnce(invocation, nodePath));
  const rows = invocations.map((invocation, index): FirstAnswerRow => {
    const list = samples[index]!;
    // A figure of an error path would say nothing of the cold start.
    const failed = list.find((s) => s.status !== 200);
    if (failed) throw new Error(`${invocation.label}: the first invocation answered ${failed.status}, not 200`);
    const of = (value: (s: Sample) => number) => median(list.map(value));
    return {
      label: invocation.label,
      status: list[0]!.status,
      importCpuMs: of((s) => s.importCpuMs),
      firstAnswerCpuMs: of((s) => s.importCpuMs + s.invocationCpuMs),
      firstAnswerWallMs: of((s) => s.importWallMs + s.invocationWallMs),
      invocationWallMs: of((s) => s.invocationWallMs),
      peakRssMb: of((s) => s.peakRssMb),
    };
  });
  return { runs, rows };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { runs, rows } = await measureFirstAnswers(Number(process.argv[2] ?? 9));
  const floor = rows[0]!;
  console.log(`${runs} runs each, alternating, medians. CPU and wall: the process's own, from its start.`);
  console.log(
    "| process | status | CPU at import | CPU at first answer | wall at first answer | of which the invocation | peak RSS MB | CPU at first answer × minimal | wall × minimal |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) {
    console.log(
      `| ${row.label} | ${row.status} | ${row.importCpuMs.toFixed(0)} ms | ${row.firstAnswerCpuMs.toFixed(0)} ms | ${row.firstAnswerWallMs.toFixed(0)} ms | ${row.invocationWallMs.toFixed(0)} ms | ${row.peakRssMb.toFixed(0)} | ${(row.firstAnswerCpuMs / floor.firstAnswerCpuMs).toFixed(2)}× | ${(row.firstAnswerWallMs / floor.firstAnswerWallMs).toFixed(2)}× |`,
    );
  }
}
