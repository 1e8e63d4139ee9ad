/**
 * `npx tsx bench/profile.ts import [runs] [--telemetry]`: imports the Functions bundle in fresh
 * processes under `--cpu-prof` (as the cold-start row does) and prints where the import's CPU time
 * went, per import; with `--telemetry`, with the cold-start row's telemetry settings as well (as
 * Azure always has them).
 *
 * `npx tsx bench/profile.ts [echo|mcp|calculator|session|list|floor|mcpfloor] [seconds]`: runs one server under
 * the benchmark's load with `node --cpu-prof`, then prints where its CPU time went during the
 * measured run (the warm-up and the start are left out), in µs per answered request — by source
 * (original file or npm package, through the source map of whichever bundle file or chunk ran it)
 * and by function, self and inclusive. Comparing `echo` with `floor` this way is how bench/README.md
 * accounts for what the app adds per request; `mcpfloor` is the MCP SDK floor
 * (bench/servers/mcp_sdk_floor_server.ts), the SDK's exchange with nothing of the app. Not part of `npm run bench`; profiles are left in
 * bench/.build/profiles/.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import { spawnHost, waitFor200 } from "./cold_start.js";
import { runLoad, type LoadTarget } from "./load.js";
import { mcpEchoCall } from "./mcp_call.js";
import { cleanEnvironment, installCleanup, spawnChild, stopAll, waitForReadyLine, type Child } from "./processes.js";
import { freePort } from "../tests/support/free_port.js";
import { buildServers, serverScript } from "./servers/build.js";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const profileDir = `${benchDir}.build/profiles`;
const rows = ["echo", "mcp", "calculator", "session", "list", "floor", "mcpfloor", "import"] as const;
type Which = (typeof rows)[number];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The measured run on the monotonic clock, in µs: what V8 stamps its samples with. */
interface Window {
  readonly startUs: number;
  readonly endUs: number;
  readonly requests: number;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  installCleanup();
  const telemetry = process.argv.includes("--telemetry");
  const args = process.argv.slice(2).filter((arg) => arg !== "--telemetry");
  const which = (args[0] ?? "echo") as Which;
  const seconds = Number(args[1] ?? 8);
  if (!rows.includes(which)) throw new Error(`usage: tsx bench/profile.ts [${rows.join("|")}] [seconds]`);
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });
  if (which === "import") return profileImport(Number(args[1] ?? 5), telemetry);
  const profileFlags = ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  const settings = { connections: 32, durationSeconds: seconds, warmupSeconds: 2, pipelining: 1 };

  let server: Child;
  let url: string;
  let azurite: Child | undefined;
  if (which === "floor" || which === "mcpfloor") {
    const name = which === "floor" ? "adapter_floor_server" : "mcp_sdk_floor_server";
    await buildServers([name]);
    server = spawnChild(which, process.execPath, [...profileFlags, serverScript(name)], cleanEnvironment({}));
    url = `http://127.0.0.1:${(await waitForReadyLine<{ port: number }>(server)).port}${which === "floor" ? "/" : "/api/mcp"}`;
  } else {
    await buildServers(["azurite_server"]);
    azurite = spawnChild("azurite", process.execPath, [serverScript("azurite_server")], cleanEnvironment({}));
    const { connectionString } = await waitForReadyLine<{ connectionString: string }>(azurite);
    const port = await freePort();
    server = spawnHost("local host", { port, storageConnectionString: connectionString, nodeFlags: profileFlags });
    await waitFor200(server, `http://127.0.0.1:${port}/api/plugins`, 10, 30_000);
    url = `http://127.0.0.1:${port}${which === "list" ? "/api/plugins" : which === "mcp" ? "/api/mcp" : "/api/plugins/execute"}`;
  }

  const tag = randomBytes(3).toString("hex");
  let startUs = 0;
  let endUs = 0;
  const hooks = {
    beforeMeasured: async () => {
      startUs = monotonicUs();
    },
    afterMeasured: async () => {
      endUs = monotonicUs();
    },
  };
  const target: LoadTarget =
    which === "list"
      ? { method: "GET", url, ...hooks }
      : which === "mcp" || which === "mcpfloor"
        ? { method: "POST", url, ...mcpEchoCall, ...hooks }
        : which === "session"
          ? {
              method: "POST",
              url,
              bodyForConnection: (i) => JSON.stringify({ plugin: "echo", data: { text: "hello" }, sessionId: `profile-${tag}-${i}` }),
              ...hooks,
            }
          : which === "calculator"
            ? { method: "POST", url, body: JSON.stringify({ plugin: "calculator", data: { expression: "2+3*4" } }), ...hooks }
            : { method: "POST", url, body: JSON.stringify({ plugin: "echo", data: { text: "hello" } }), ...hooks };
  const result = await runLoad(target, settings, { server: server.pid });
  const cpuUs = result.cpu.processes.server === undefined ? undefined : (result.cpu.processes.server * 1e6) / result.requestsPerSecond;
  console.log(
    `${which}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, server CPU ${cpuUs === undefined ? "n/a" : `${cpuUs.toFixed(0)} µs`} per request (under --cpu-prof)`,
  );
  await server.stop(); // SIGTERM: the host exits through process.exit, which writes the profile
  await azurite?.stop();

  const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile in ${profileDir}`);
  summarise(JSON.parse(readFileSync(`${profileDir}/${file}`, "utf8")) as CpuProfile, { startUs, endUs, requests: result.ok2xx + result.non2xx });
  console.log(`\nprofile: ${profileDir}/${file} (open in Chrome DevTools › Performance)`);
}

/** The cold-start row's import of dist/functions/main.js (with its telemetry settings when `telemetry`), `runs` times under --cpu-prof; CPU per import by package and by function. */
async function profileImport(runs: number, telemetry: boolean): Promise<void> {
  const { azureLikeEnvironment, functionsBundle, importOnce, telemetryEnvironment, writeWorkerStandIn } = await import("./bundle_import.js");
  const nodePath = writeWorkerStandIn();
  const env = telemetry ? { ...azureLikeEnvironment, ...telemetryEnvironment } : azureLikeEnvironment;
  for (let i = 0; i < runs; i++) {
    await importOnce({ name: "dist/functions/main.js", file: functionsBundle, env, loadedBytes: 0 }, nodePath, ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]);
  }
  const files = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"));
  const profiles = files.map((f) => JSON.parse(readFileSync(`${profileDir}/${f}`, "utf8")) as CpuProfile);
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i + 1] ?? 0;
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === "(idle)") return;
      total += us;
      const { name, source } = frameName(frame);
      // Top-level code of a bundle file (line 1, column 0) is the evaluation of its modules; V8 compiles lazily, so parsing shows up in the frames that run first.
      const g = frame.functionName === "compileSourceTextModule" ? "(parsing and compiling ES modules)" : group(frame, source);
      byGroup.set(g, (byGroup.get(g) ?? 0) + us);
      byFunction.set(`${name}  ${source}`, (byFunction.get(`${name}  ${source}`) ?? 0) + us);
    });
  }
  const per = (us: number) => us / 1000 / profiles.length;
  console.log(
    `import of dist/functions/main.js${telemetry ? " with telemetry" : ""}, ${profiles.length} runs under --cpu-prof: ${per(total).toFixed(1)} ms of CPU per import (sampling inflates this)`,
  );
  for (const [title, map, n] of [
    ["by source", byGroup, 30],
    ["by function", byFunction, 30],
  ] as const) {
    console.log(`\n${title}, self time per import`);
    for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
      console.log(`${per(us).toFixed(1).padStart(7)} ms  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
}

/** Source maps of the files a frame can come from: the bundle's entries and chunks, each with its own map. */
class SourceMaps {
  private readonly maps = new Map<string, SourceMap | undefined>();

  of(file: string): SourceMap | undefined {
    if (!this.maps.has(file)) {
      const path = `${file}.map`;
      this.maps.set(file, file.endsWith(".js") && existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, "utf8"))) : undefined);
    }
    return this.maps.get(file);
  }
}

const maps = new SourceMaps();

/** `name  source:line`, through the source map where the frame is in a bundle file; npm packages by name. */
function frameName(frame: ProfileNode["callFrame"]): { name: string; source: string } {
  let file = frame.url.replace(/^file:\/\//, "");
  let line = frame.lineNumber + 1;
  let name = frame.functionName || "(anonymous)";
  const map = file.startsWith("/") ? maps.of(file) : undefined;
  if (map && frame.lineNumber >= 0) {
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number; name?: string };
    if (entry.originalSource) {
      file = entry.originalSource;
      line = (entry.originalLine ?? 0) + 1;
      if (entry.name && frame.functionName && frame.functionName.length <= 3) name = entry.name;
    }
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  let source: string;
  if (pkg) source = `${pkg[1]}:${line}`;
  else if (file === "") source = "(native)";
  else if (file.startsWith("node:")) source = file;
  else {
    const local = /\/(src|functions|plugins|bench)\/.*$/.exec(file);
    source = local ? `${local[0].slice(1)}:${line}` : `${file}:${line}`;
  }
  return { name, source };
}

function group(frame: ProfileNode["callFrame"], source: string): string {
  if (frame.functionName === "(garbage collector)") return "(garbage collector)";
  if (frame.url === "") return `(native) ${frame.functionName}`;
  return source.replace(/:\d+$/, "").replace(/^node:.*$/, "node: (built-in modules)");
}

function summarise(profile: CpuProfile, window: Window): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // Self time per node within the measured window (a sample's delta is the time since the previous one).
  const selfUs = new Map<number, number>();
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    time += profile.timeDeltas[i]!;
    if (time < window.startUs || time > window.endUs) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  const perRequest = (us: number) => us / Math.max(1, window.requests);
  const idleNames = new Set(["(idle)", "(program)"]);
  let busyUs = 0;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (idleNames.has(node.callFrame.functionName)) continue;
    busyUs += us;
    const { name, source } = frameName(node.callFrame);
    byFunction.set(`${name}  ${source}`, (byFunction.get(`${name}  ${source}`) ?? 0) + us);
    const g = group(node.callFrame, source);
    byGroup.set(g, (byGroup.get(g) ?? 0) + us);
    // Inclusive: every distinct function on the sample's stack.
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameName(byId.get(at)!.callFrame);
      onStack.add(`${frame.name}  ${frame.source}`);
    }
    for (const key of onStack) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
  const windowS = (window.endUs - window.startUs) / 1e6;
  console.log(
    `\nmeasured window: ${windowS.toFixed(1)} s, ${window.requests} requests; the main thread was busy ${(busyUs / 1e6).toFixed(2)} s = ${perRequest(busyUs).toFixed(1)} µs per request (sampling inflates this a little)`,
  );
  const print = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${perRequest(us).toFixed(1).padStart(7)} µs  ${((us / busyUs) * 100).toFixed(1).padStart(5)}%  ${name}`);
    }
  };
  print("by source, self time per request", byGroup, 30);
  print("by function, self time per request", byFunction, 40);
  print("by function, inclusive time per request", inclusive, 60);
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
