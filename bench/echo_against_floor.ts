/**
 * `npx tsx bench/echo_against_floor.ts [rounds] [seconds] [label=dist/src/host/start.js ...]`:
 * the adapter floor and one or more builds of the local host (the current `dist/` by default; a
 * copy of an older `dist/` beside a node_modules link compares two builds) under the benchmark's
 * load, 1 s warm-up, alternating floor and hosts each round, one echo execute after another. Prints
 * per round and as medians: requests/s as a share of the same round's floor, p99, the server's CPU
 * per request and the young-generation bytes it collected per request (from `--trace-gc`). On a
 * shared machine the CPU per request is the steadier figure. Not part of `npm run bench`.
 */
import { waitFor200 } from "./cold_start.js";
import { runLoad, type LoadTarget } from "./load.js";
import { cleanEnvironment, installCleanup, spawnChild, stopAll, waitForReadyLine, type Child } from "./processes.js";
import { scavengedBytes } from "./scavenged_bytes.js";
import { buildServers, serverScript } from "./servers/build.js";
import { median } from "./stats.js";
import { freePort } from "../tests/support/free_port.js";

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const given = process.argv.slice(4).map((arg) => {
  const [label, path] = arg.split("=");
  if (!label || !path) throw new Error(`a host build is label=path/to/start.js, not ${arg}`);
  return { label, path };
});
const builds = given.length > 0 ? given : [{ label: "echo", path: "dist/src/host/start.js" }];
const settings = { connections: 32, durationSeconds: seconds, warmupSeconds: 1, pipelining: 1 };
const body = JSON.stringify({ plugin: "echo", data: { text: "hello" } });

interface Figures {
  ratio?: number;
  cpuUs: number;
  bytes: number;
}

async function measure(child: Child, url: string): Promise<{ figures: Figures; line: string; requestsPerSecond: number }> {
  const gc = scavengedBytes(child);
  let bytes = 0;
  const target: LoadTarget = {
    method: "POST",
    url,
    body,
    beforeMeasured: async () => gc.start(),
    afterMeasured: async () => {
      bytes = gc.stop();
    },
  };
  const result = await runLoad(target, settings, { server: child.pid });
  const cpuUs = ((result.cpu.processes.server ?? NaN) * 1e6) / result.requestsPerSecond;
  const perRequest = bytes / Math.max(1, result.ok2xx);
  return {
    requestsPerSecond: result.requestsPerSecond,
    figures: { cpuUs, bytes: perRequest },
    line: `${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, server CPU ${cpuUs.toFixed(0)} µs/request, ${(perRequest / 1024).toFixed(1)} KB/request collected, others ${((result.cpu.others ?? 0) * 100).toFixed(0)}% of a core, non-2xx ${result.non2xx}`,
  };
}

async function main(): Promise<void> {
  installCleanup();
  await buildServers(["adapter_floor_server", "azurite_server"]);
  const azurite = spawnChild("azurite", process.execPath, [serverScript("azurite_server")], cleanEnvironment({}));
  const { connectionString } = await waitForReadyLine<{ connectionString: string }>(azurite);
  const figures = new Map<string, Figures[]>();
  const keep = (label: string, f: Figures) => figures.set(label, [...(figures.get(label) ?? []), f]);
  for (let round = 0; round < rounds; round++) {
    const floor = spawnChild("floor", process.execPath, ["--trace-gc", serverScript("adapter_floor_server")], cleanEnvironment({}));
    const floorPort = (await waitForReadyLine<{ port: number }>(floor)).port;
    const floorRun = await measure(floor, `http://127.0.0.1:${floorPort}/`);
    await floor.stop();
    keep("floor", floorRun.figures);
    console.log(`round ${round + 1} floor: ${floorRun.line}`);
    for (const build of builds) {
      const port = await freePort();
      const env = cleanEnvironment({ PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", STORAGE_CONNECTION_STRING: connectionString });
      const host = spawnChild(build.label, process.execPath, ["--trace-gc", build.path, "--local"], env);
      await waitFor200(host, `http://127.0.0.1:${port}/api/plugins`, 10, 30_000);
      const run = await measure(host, `http://127.0.0.1:${port}/api/plugins/execute`);
      await host.stop();
      const ratio = run.requestsPerSecond / floorRun.requestsPerSecond;
      keep(build.label, { ...run.figures, ratio });
      console.log(`round ${round + 1} ${build.label}: ${run.line}, ${(ratio * 100).toFixed(1)} % of the floor`);
    }
  }
  console.log("\nmedians");
  for (const [label, all] of figures) {
    const ratios = all.flatMap((f) => (f.ratio === undefined ? [] : [f.ratio]));
    const share = ratios.length > 0 ? `, ${(median(ratios) * 100).toFixed(1)} % of the floor's req/s` : "";
    console.log(
      `${label}: server CPU ${median(all.map((f) => f.cpuUs)).toFixed(0)} µs/request, ${(median(all.map((f) => f.bytes)) / 1024).toFixed(1)} KB/request collected${share}`,
    );
  }
}

await main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
