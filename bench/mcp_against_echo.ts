/**
 * `npx tsx bench/mcp_against_echo.ts [rounds] [seconds] [label=dist/src/host/start.js[,--node-flag...] ...]`:
 * rows (a) execute echo and (a′) MCP tools/call echo on the same local host process, for one or
 * more builds of the host (the current `dist/` by default; a copy of an older `dist/` beside a
 * node_modules link compares two builds), and beside them two servers that bound what MCP can
 * cost: the adapter floor (bench/servers/adapter_floor_server.ts) and the MCP SDK floor — the
 * same adapter steps around the official SDK's handler with one trivial tool and nothing of the
 * app (bench/servers/mcp_sdk_floor_server.ts), and that floor again on the SDK's low-level Server
 * (bench/servers/mcp_sdk_low_level_floor_server.ts). Same load as the benchmark (1 s warm-up); every
 * round starts each server afresh, the order of the builds and of the host's two rows
 * alternating between rounds.
 *
 * Prints per round and as medians: (a′)'s requests/s as a share of (a)'s in the same process; the
 * server's CPU and young-generation bytes per request of each row; what the SDK's exchange costs
 * by itself (the SDK floor less the adapter floor); and the share of (a) that would leave to
 * (a′) were costs to add up: (a)'s CPU over (a)'s plus the SDK's, since an MCP call does what (a)
 * does and the SDK's exchange besides (served, they add up only roughly); and the same with the
 * low-level Server's exchange. The quick check of a change to the MCP path. Not part of `npm run bench`.
 */
import { waitFor200 } from "./cold_start.js";
import { runLoad, type LoadTarget } from "./load.js";
import { checkMcpEchoCall, mcpEchoCall } from "./mcp_call.js";
import { cleanEnvironment, installCleanup, spawnChild, stopAll, waitForReadyLine, type Child } from "./processes.js";
import { scavengedBytes } from "./scavenged_bytes.js";
import { buildServers, serverScript, type BenchServer } from "./servers/build.js";
import { median } from "./stats.js";
import { freePort } from "../tests/support/free_port.js";

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const given = process.argv.slice(4).map((arg) => {
  const [label, rest] = arg.split(/=(.*)/s);
  const [path, ...nodeFlags] = (rest ?? "").split(",");
  if (!label || !path) throw new Error(`a host build is label=path/to/start.js[,--node-flag...], not ${arg}`);
  return { label, path, nodeFlags };
});
const builds = given.length > 0 ? given : [{ label: "host", path: "dist/src/host/start.js", nodeFlags: [] }];
const settings = { connections: 32, durationSeconds: seconds, warmupSeconds: 1, pipelining: 1 };
const echoBody = JSON.stringify({ plugin: "echo", data: { text: "hello" } });

interface RowRun {
  readonly requestsPerSecond: number;
  /** The server's CPU (all its threads) per request, µs. */
  readonly cpuUs: number;
  /** Young-generation bytes collected per request. */
  readonly bytes: number;
  /** Everything else the machine ran meanwhile, in cores. */
  readonly others: number;
}

async function measure(server: Child, azurite: Child, row: LoadTarget): Promise<RowRun> {
  const gc = scavengedBytes(server);
  let bytes = 0;
  const target: LoadTarget = {
    ...row,
    beforeMeasured: async () => gc.start(),
    afterMeasured: async () => {
      bytes = gc.stop();
    },
  };
  const result = await runLoad(target, settings, { server: server.pid, azurite: azurite.pid });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${server.name}: ${result.non2xx} non-2xx, ${result.errors} errors on ${row.url}`);
  return {
    requestsPerSecond: result.requestsPerSecond,
    cpuUs: ((result.cpu.processes.server ?? NaN) * 1e6) / result.requestsPerSecond,
    bytes: bytes / Math.max(1, result.ok2xx),
    others: result.cpu.others ?? 0,
  };
}

const describe = (run: RowRun) =>
  `${Math.round(run.requestsPerSecond)} req/s, ${run.cpuUs.toFixed(0)} µs, ${(run.bytes / 1024).toFixed(1)} KB, others ${(run.others * 100).toFixed(0)} %`;

async function measureBenchServer(
  name: BenchServer,
  azurite: Child,
  row: (port: number) => LoadTarget,
  check?: (port: number) => Promise<void>,
): Promise<RowRun> {
  const server = spawnChild(name, process.execPath, ["--trace-gc", serverScript(name)], cleanEnvironment({}));
  const { port } = await waitForReadyLine<{ port: number }>(server);
  try {
    await check?.(port);
    return await measure(server, azurite, row(port));
  } finally {
    await server.stop();
  }
}

async function measureHost(
  build: (typeof builds)[number],
  azurite: Child,
  connectionString: string,
  echoFirst: boolean,
): Promise<{ echo: RowRun; mcp: RowRun }> {
  const port = await freePort();
  const env = cleanEnvironment({ PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", STORAGE_CONNECTION_STRING: connectionString });
  const host = spawnChild(build.label, process.execPath, ["--trace-gc", ...build.nodeFlags, build.path, "--local"], env);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(host, `${base}/api/plugins`, 10, 30_000);
    await checkMcpEchoCall(`${base}/api/mcp`);
    const echoRow = () => measure(host, azurite, { method: "POST", url: `${base}/api/plugins/execute`, body: echoBody });
    const mcpRow = () => measure(host, azurite, { method: "POST", url: `${base}/api/mcp`, ...mcpEchoCall });
    if (echoFirst) {
      const echo = await echoRow();
      return { echo, mcp: await mcpRow() };
    }
    const mcp = await mcpRow();
    return { echo: await echoRow(), mcp };
  } finally {
    await host.stop();
  }
}

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
/** The share of (a)'s requests/s (a′) would reach were costs to add up: (a)'s CPU per request over (a)'s plus the SDK's exchange. Served, (a′) has measured a few points above it. */
const sdkBound = (echoCpu: number, floorCpu: number, sdkFloorCpu: number) => echoCpu / (echoCpu + sdkFloorCpu - floorCpu);

async function main(): Promise<void> {
  installCleanup();
  await buildServers(["adapter_floor_server", "mcp_sdk_floor_server", "mcp_sdk_low_level_floor_server", "azurite_server"]);
  const azurite = spawnChild("azurite", process.execPath, [serverScript("azurite_server")], cleanEnvironment({}));
  const { connectionString } = await waitForReadyLine<{ connectionString: string }>(azurite);
  const floors: { floor: RowRun; sdkFloor: RowRun; lowLevelFloor: RowRun }[] = [];
  const hosts = new Map<string, { echo: RowRun; mcp: RowRun }[]>();
  for (let round = 0; round < rounds; round++) {
    const floor = await measureBenchServer("adapter_floor_server", azurite, (port) => ({ method: "POST", url: `http://127.0.0.1:${port}/`, body: echoBody }));
    const sdkFloorUrl = (port: number) => `http://127.0.0.1:${port}/api/mcp`;
    const sdkFloor = await measureBenchServer(
      "mcp_sdk_floor_server",
      azurite,
      (port) => ({ method: "POST", url: sdkFloorUrl(port), ...mcpEchoCall }),
      (port) => checkMcpEchoCall(sdkFloorUrl(port)),
    );
    const lowLevelFloor = await measureBenchServer(
      "mcp_sdk_low_level_floor_server",
      azurite,
      (port) => ({ method: "POST", url: sdkFloorUrl(port), ...mcpEchoCall }),
      (port) => checkMcpEchoCall(sdkFloorUrl(port)),
    );
    floors.push({ floor, sdkFloor, lowLevelFloor });
    console.log(
      `round ${round + 1} adapter floor: ${describe(floor)}; MCP SDK floor: ${describe(sdkFloor)}; the SDK's exchange ${(sdkFloor.cpuUs - floor.cpuUs).toFixed(0)} µs; ` +
        `on the low-level Server: ${describe(lowLevelFloor)}, its exchange ${(lowLevelFloor.cpuUs - floor.cpuUs).toFixed(0)} µs`,
    );
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const run = await measureHost(build, azurite, connectionString, round % 2 === 0);
      hosts.set(build.label, [...(hosts.get(build.label) ?? []), run]);
      console.log(
        `round ${round + 1} ${build.label}: (a) ${describe(run.echo)}; (a′) ${describe(run.mcp)}; ` +
          `(a′)/(a) ${percent(run.mcp.requestsPerSecond / run.echo.requestsPerSecond)}, were costs to add up ${percent(sdkBound(run.echo.cpuUs, floor.cpuUs, sdkFloor.cpuUs))}`,
      );
    }
  }
  const floorCpu = median(floors.map((f) => f.floor.cpuUs));
  const sdkFloorCpu = median(floors.map((f) => f.sdkFloor.cpuUs));
  const lowLevelFloorCpu = median(floors.map((f) => f.lowLevelFloor.cpuUs));
  const kb = (runs: RowRun[]) => `${(median(runs.map((r) => r.bytes)) / 1024).toFixed(1)} KB`;
  console.log("\nmedians");
  console.log(
    `adapter floor ${floorCpu.toFixed(0)} µs CPU/request (${kb(floors.map((f) => f.floor))}), MCP SDK floor ${sdkFloorCpu.toFixed(0)} µs ` +
      `(${kb(floors.map((f) => f.sdkFloor))}): the SDK's exchange costs ${(sdkFloorCpu - floorCpu).toFixed(0)} µs of server CPU per request; ` +
      `the SDK floor answers at ${percent(median(floors.map((f) => f.sdkFloor.requestsPerSecond / f.floor.requestsPerSecond)))} of the adapter floor's req/s; ` +
      `on the low-level Server ${lowLevelFloorCpu.toFixed(0)} µs (${kb(floors.map((f) => f.lowLevelFloor))}), its exchange ${(lowLevelFloorCpu - floorCpu).toFixed(0)} µs`,
  );
  for (const [label, runs] of hosts) {
    const echoCpu = median(runs.map((r) => r.echo.cpuUs));
    const mcpCpu = median(runs.map((r) => r.mcp.cpuUs));
    console.log(
      `${label}: (a′) at ${percent(median(runs.map((r) => r.mcp.requestsPerSecond / r.echo.requestsPerSecond)))} of (a)'s req/s ` +
        `(${Math.round(median(runs.map((r) => r.mcp.requestsPerSecond)))} against ${Math.round(median(runs.map((r) => r.echo.requestsPerSecond)))}); ` +
        `server CPU per request (a) ${echoCpu.toFixed(0)} µs, (a′) ${mcpCpu.toFixed(0)} µs, MCP adds ${(mcpCpu - echoCpu).toFixed(0)} µs ` +
        `of which the SDK's exchange ${(sdkFloorCpu - floorCpu).toFixed(0)}; young generation (a) ${kb(runs.map((r) => r.echo))}, (a′) ${kb(runs.map((r) => r.mcp))}; ` +
        `were costs to add up, (a′) would be ${percent(sdkBound(echoCpu, floorCpu, sdkFloorCpu))} of (a), ${percent(sdkBound(echoCpu, floorCpu, lowLevelFloorCpu))} on the low-level Server`,
    );
  }
}

await main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
