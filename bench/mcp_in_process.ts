/**
 * `npx tsx bench/mcp_in_process.ts [calls] [repeats] [gapMs]`: one process, no HTTP, `repeats` times
 * `calls` of each subject one after another, the order of the subjects reversed every other repeat;
 * with `gapMs`, every call comes after that long idle (and the wait's own CPU is printed too). The
 * subjects: the SDK's handler with the least a server can be (bench/mcp_sdk_floor.ts, on McpServer and
 * on the low-level Server) and the app's
 * MCP endpoint (src/mcp/mcp_server.ts: its server factory, tool catalogue and the plugin runner,
 * AUTH_MODE none, in-process stores), each handed the same tools/call of echo as a web Request with
 * its parsed body and read back; for scale, the runner's echo run alone and the glue of the app's
 * MCP function (src/mcp/fetch_exchange.ts: the web Request built from the one the local host hands
 * the function, the Response read back). Prints the CPU per call, medians of the repeats. What the
 * app adds to the SDK is the endpoint less the floor. Not part of `npm run bench`; the figures
 * served under load are bench/mcp_against_echo.ts's.
 */
import azureFunctions from "@azure/functions";
import { pluginClasses } from "../plugins/index.js";
import { localCaller } from "../src/auth/caller.js";
import { loadConfig } from "../src/config/config.js";
import { setBufferedBody } from "../src/http/request_body.js";
import { silentLogger } from "../src/logging/logger.js";
import { toFetchExchange, toHttpResponse } from "../src/mcp/fetch_exchange.js";
import { createMcpEndpoint } from "../src/mcp/mcp_server.js";
import { createServices } from "../src/services.js";
import { mcpEchoCall } from "./mcp_call.js";
import { createLowLevelSdkFloorHandler, createSdkFloorHandler } from "./mcp_sdk_floor.js";
import { median } from "./stats.js";

// @azure/functions is CommonJS: plain Node can only import its default export.
const { HttpRequest } = azureFunctions;

const calls = Number(process.argv[2] ?? 5000);
const repeats = Number(process.argv[3] ?? 8);
/** With a gap, every call waits that many ms first (the process idle meanwhile), as a server between requests may. */
const gapMs = Number(process.argv[4] ?? 0);
const url = "http://127.0.0.1:7071/api/mcp";
const parsedBody: unknown = JSON.parse(mcpEchoCall.body);
const headers = { "content-type": "application/json", ...mcpEchoCall.headers };
const answer = JSON.stringify({ result: { content: [{ type: "text", text: "hello" }], resultType: "complete" }, jsonrpc: "2.0", id: 1 });

const services = createServices(loadConfig({ LOG_LEVEL: "error" }), { plugins: pluginClasses, storage: undefined, logger: silentLogger });
const endpoint = createMcpEndpoint(services);
const floor = createSdkFloorHandler();
const lowLevelFloor = createLowLevelSdkFloorHandler();
const call = { caller: localCaller, sessionId: undefined, signal: undefined };
/** The request as the local host hands it to a function, its body already read (src/host/local_host.ts): read again from there on every call. */
const hostRequest = new HttpRequest({ method: "POST", url, headers: { host: "127.0.0.1:7071", ...headers }, body: { string: mcpEchoCall.body } });
setBufferedBody(hostRequest, Buffer.from(mcpEchoCall.body));

const subjects: Record<string, () => Promise<unknown>> = {
  "MCP SDK floor: handler.fetch and the answer read": async () => (await floor.fetch(new Request(url, { method: "POST", headers }), { parsedBody })).text(),
  "MCP SDK floor on the low-level Server: the same": async () =>
    (await lowLevelFloor.fetch(new Request(url, { method: "POST", headers }), { parsedBody })).text(),
  "the app's MCP endpoint: the same": async () => (await endpoint.fetch({ request: new Request(url, { method: "POST", headers }), parsedBody }, call)).text(),
  "the runner's echo run alone": () =>
    services.runner.execute({ caller: localCaller, channel: "mcp", plugin: "echo", data: { text: "hello" }, sessionId: undefined, signal: undefined }),
  "the glue: toFetchExchange and toHttpResponse": async () => {
    await toFetchExchange(hostRequest, 1 << 20);
    return toHttpResponse(new Response(answer, { headers: { "content-type": "application/json" } }));
  },
};

if (gapMs > 0) subjects["nothing: the wait alone"] = async () => undefined;
const wait = () => new Promise((resolve) => setTimeout(resolve, gapMs));

async function cpuPerCall(subject: () => Promise<unknown>, count: number): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    if (gapMs > 0) await wait();
    await subject();
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}

const figures = new Map<string, number[]>();
for (const subject of Object.values(subjects)) await cpuPerCall(subject, calls); // warm-up
for (let repeat = 0; repeat < repeats; repeat++) {
  const order = Object.entries(subjects);
  for (const [name, subject] of repeat % 2 === 0 ? order : order.toReversed())
    figures.set(name, [...(figures.get(name) ?? []), await cpuPerCall(subject, calls)]);
}
for (const [name, values] of figures) {
  const sorted = values.toSorted((a, b) => a - b);
  console.log(
    `${name}: ${median(values).toFixed(1)} µs CPU per call (${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)} over ${repeats} repeats of ${calls}${gapMs > 0 ? `, each after ${gapMs} ms idle` : ""})`,
  );
}
await services.close();
