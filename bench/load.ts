/**
 * One load run: a warm-up with the same settings (discarded), then the measured run. Latency
 * percentiles are computed from autocannon's own per-response times (fractional ms, 2xx only,
 * as autocannon does) rather than from its histogram, which rounds to whole milliseconds.
 */
import autocannon from "autocannon";
import { cpuMeter, type CpuShares } from "./processes.js";
import { percentile } from "./stats.js";

export interface LoadSettings {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly pipelining: number;
}

export interface LoadTarget {
  readonly method: "GET" | "POST";
  /** Full URL: http://127.0.0.1:port/path */
  readonly url: string;
  readonly body?: string;
  /** Request headers besides content-type (MCP's protocol headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A different body per connection (e.g. one session id each); `phase` tells warm-up from the measured run. */
  readonly bodyForConnection?: (index: number, phase: "warmup" | "measured") => string;
  /** Called with every response body of the measured run (status, body text). */
  readonly onResponse?: (status: number, body: string) => void;
  /** Called right before and right after the measured run (not the warm-up): where per-turn counters are read. */
  readonly beforeMeasured?: () => Promise<void>;
  readonly afterMeasured?: () => Promise<void>;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  readonly durationSeconds: number;
  /** CPU used during the measured run. */
  readonly cpu: CpuShares;
}

async function runOnce(
  target: LoadTarget,
  settings: LoadSettings,
  durationSeconds: number,
  phase: "warmup" | "measured",
  latencies?: (ms: number, status: number) => void,
): Promise<autocannon.Result> {
  let connection = 0;
  const options: autocannon.Options = {
    url: target.url,
    connections: settings.connections,
    duration: durationSeconds,
    pipelining: settings.pipelining,
    method: target.method,
    headers: { ...(target.body || target.bodyForConnection ? { "content-type": "application/json" } : {}), ...target.headers },
    ...(target.body ? { body: target.body } : {}),
  };
  if (target.bodyForConnection) {
    const bodyFor = target.bodyForConnection;
    options.setupClient = (client) => client.setBody(bodyFor(connection++, phase));
  }
  if (target.onResponse && phase === "measured") {
    const onResponse = target.onResponse;
    options.requests = [{ onResponse: (status, body) => onResponse(status, String(body)) }];
  }
  return await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, result) => (error ? reject(error) : resolve(result)));
    if (latencies) instance.on("response", (_client, statusCode, _bytes, responseTime) => latencies(responseTime, statusCode));
  });
}

export async function runLoad(target: LoadTarget, settings: LoadSettings, pids: Readonly<Record<string, number>>): Promise<LoadResult> {
  if (settings.warmupSeconds > 0) await runOnce(target, settings, settings.warmupSeconds, "warmup");
  let times = new Float64Array(1 << 16);
  let count = 0;
  await target.beforeMeasured?.();
  const meter = cpuMeter(pids);
  const result = await runOnce(target, settings, settings.durationSeconds, "measured", (ms, status) => {
    if (status < 200 || status > 299) return;
    if (count === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[count++] = ms;
  });
  const cpu = meter.stop();
  await target.afterMeasured?.();
  const sorted = times.subarray(0, count).sort();
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(stats.count ?? 0);
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    ok2xx: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    durationSeconds: result.duration,
    cpu,
  };
}
