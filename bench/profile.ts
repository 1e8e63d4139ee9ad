/**
 * `npx tsx bench/profile.ts [echo|session|list|floor] [seconds]`: runs one server under the
 * benchmark's load with `node --cpu-prof`, then prints where its CPU time went — by function and
 * by source (original file or npm package, through the bundle's source map). Not part of
 * `npm run bench`; profiles are left in bench/.build/profiles/.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import { hostBundle, spawnHost, waitFor200 } from "./cold_start.js";
import { runLoad } from "./load.js";
import { cleanEnvironment, installCleanup, spawnChild, stopAll, waitForReadyLine, type Child } from "./processes.js";
import { freePort } from "../tests/support/free_port.js";
import { buildServers, serverScript } from "./servers/build.js";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const profileDir = `${benchDir}.build/profiles`;

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

async function main(): Promise<void> {
  installCleanup();
  const which = process.argv[2] ?? "echo";
  const seconds = Number(process.argv[3] ?? 8);
  if (!["echo", "session", "list", "floor"].includes(which)) throw new Error("usage: tsx bench/profile.ts [echo|session|list|floor] [seconds]");
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });
  const profileFlags = ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  const body = JSON.stringify({ plugin: "echo", data: { text: "hello" } });
  const settings = { connections: 32, durationSeconds: seconds, warmupSeconds: 2, pipelining: 1 };

  let server: Child;
  let url: string;
  let sourceMap: SourceMap | undefined;
  let azurite: Child | undefined;
  if (which === "floor") {
    await buildServers(["adapter_floor_server"]);
    server = spawnChild("floor", process.execPath, [...profileFlags, serverScript("adapter_floor_server")], cleanEnvironment({}));
    url = `http://127.0.0.1:${(await waitForReadyLine<{ port: number }>(server)).port}/`;
  } else {
    await buildServers(["azurite_server"]);
    azurite = spawnChild("azurite", process.execPath, [serverScript("azurite_server")], cleanEnvironment({}));
    const { connectionString } = await waitForReadyLine<{ connectionString: string }>(azurite);
    const port = await freePort();
    server = spawnHost("local host", { port, storageConnectionString: connectionString, nodeFlags: profileFlags });
    await waitFor200(server, `http://127.0.0.1:${port}/api/plugins`, 10, 30_000);
    url = which === "list" ? `http://127.0.0.1:${port}/api/plugins` : `http://127.0.0.1:${port}/api/plugins/execute`;
    sourceMap = new SourceMap(JSON.parse(readFileSync(`${hostBundle}.map`, "utf8")));
  }

  const tag = randomBytes(3).toString("hex");
  const result = await runLoad(
    which === "list"
      ? { method: "GET", url }
      : which === "session"
        ? { method: "POST", url, bodyForConnection: (i) => JSON.stringify({ plugin: "echo", data: { text: "hello" }, sessionId: `profile-${tag}-${i}` }) }
        : { method: "POST", url, body },
    settings,
    { server: server.pid },
  );
  console.log(`${which}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (under --cpu-prof)`);
  await server.stop(); // SIGTERM: the host exits through process.exit, which writes the profile
  await azurite?.stop();

  const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile in ${profileDir}`);
  summarise(JSON.parse(readFileSync(`${profileDir}/${file}`, "utf8")) as CpuProfile, sourceMap);
  console.log(`\nprofile: ${profileDir}/${file} (open in Chrome DevTools › Performance)`);
}

function sourceOf(frame: ProfileNode["callFrame"], map: SourceMap | undefined): string {
  let file = frame.url.replace(/^file:\/\//, "");
  let line = frame.lineNumber + 1;
  if (map && file.endsWith(".js") && file === hostBundle) {
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource) {
      file = entry.originalSource;
      line = (entry.originalLine ?? 0) + 1;
    }
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return `${pkg[1]}:${line}`;
  if (file === "") return "(native)";
  if (file.startsWith("node:")) return file;
  const local = /\/(src|functions|plugins|bench)\/.*$/.exec(file);
  return local ? `${local[0].slice(1)}:${line}` : `${file}:${line}`;
}

function group(source: string): string {
  return source.replace(/:\d+$/, "").replace(/^node:.*$/, "node: (built-in modules)");
}

function summarise(profile: CpuProfile, map: SourceMap | undefined): void {
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length) / 1000;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const source = sourceOf(node.callFrame, map);
    const name = `${node.callFrame.functionName || "(anonymous)"}  ${source}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const g = node.callFrame.functionName === "(garbage collector)" ? "(garbage collector)" : node.callFrame.url === "" ? `(native) ${node.callFrame.functionName}` : group(source);
    byGroup.set(g, (byGroup.get(g) ?? 0) + hits);
  }
  const print = (title: string, map_: Map<string, number>, n: number) => {
    console.log(`\n${title} (self time, ${total} samples ≈ ${((total * interval) / 1000).toFixed(1)} s)`);
    for (const [name, hits] of [...map_].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
    }
  };
  print("by source", byGroup, 25);
  print("by function", byFunction, 30);

  // Inclusive time (the function and everything it called), as a share of the time the thread was not idle.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<number, number>();
  const inclusiveOf = (node: ProfileNode): number => {
    let sum = node.hitCount ?? 0;
    for (const child of node.children ?? []) sum += inclusiveOf(byId.get(child)!);
    inclusive.set(node.id, sum);
    return sum;
  };
  inclusiveOf(profile.nodes[0]!);
  const idle = profile.nodes.filter((n) => ["(idle)", "(program)"].includes(n.callFrame.functionName)).reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const busy = total - idle;
  const byName = new Map<string, number>();
  const walk = (node: ProfileNode, onStack: ReadonlySet<string>) => {
    const name = `${node.callFrame.functionName || "(anonymous)"}  ${sourceOf(node.callFrame, map)}`;
    if (!onStack.has(name)) byName.set(name, (byName.get(name) ?? 0) + inclusive.get(node.id)!);
    const next = new Set(onStack).add(name);
    for (const child of node.children ?? []) walk(byId.get(child)!, next);
  };
  walk(profile.nodes[0]!, new Set());
  console.log(`\nby function, inclusive (share of the ${busy} samples the thread was busy)`);
  for (const [name, hits] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 45)) {
    console.log(`${((hits / busy) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
