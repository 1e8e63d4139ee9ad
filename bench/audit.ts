/**
 * Row (d) support: reading the audit log back through the API, and measuring what a single
 * audit write costs (directly against Azurite, and as the host sees it).
 */
import { Agent, request } from "node:http";
import { TableClient } from "@azure/data-tables";
import { percentile } from "./stats.js";

interface AuditPageBody {
  entries: { type?: string; runId?: string; outcome?: string }[];
  nextCursor: string | null;
}

export interface AuditReadBack {
  /** runIds of successful plugin_run entries found in the log, over all sessions. */
  readonly runIds: Set<string>;
  readonly entries: number;
  readonly pages: number;
  readonly elapsedMs: number;
}

/** Pages through GET /api/memory/audit/{sessionId}?limit=200 for every session. */
export async function readAuditLog(baseUrl: string, sessionIds: readonly string[], parallel = 4): Promise<AuditReadBack> {
  const started = performance.now();
  const runIds = new Set<string>();
  let entries = 0;
  let pages = 0;
  const queue = [...sessionIds];
  const worker = async () => {
    for (let sessionId = queue.shift(); sessionId !== undefined; sessionId = queue.shift()) {
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? "limit=200" : `limit=200&cursor=${encodeURIComponent(cursor)}`;
        const response = await fetch(`${baseUrl}/api/memory/audit/${encodeURIComponent(sessionId)}?${query}`);
        if (response.status !== 200) throw new Error(`audit read of ${sessionId} answered ${response.status}: ${await response.text()}`);
        const page = (await response.json()) as AuditPageBody;
        pages++;
        for (const entry of page.entries) {
          entries++;
          if (entry.type === "plugin_run" && entry.outcome === "success" && entry.runId) runIds.add(entry.runId);
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { runIds, entries, pages, elapsedMs: performance.now() - started };
}

export interface LatencySample {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function summarise(times: number[]): LatencySample {
  const sorted = [...times].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

/**
 * One audit-sized entity written `count` times, one after the other, with the same SDK and
 * options the app uses — the latency of a single write on an otherwise idle machine.
 */
export async function singleWriteLatency(connectionString: string, count: number): Promise<LatencySample> {
  const table = TableClient.fromConnectionString(connectionString, "benchwriteprobe", { allowInsecureConnection: true });
  await table.createTable();
  const times: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const started = performance.now();
    await table.createEntity({
      partitionKey: "bench-probe",
      rowKey: `${String(Date.now()).padStart(15, "0")}-${String(i).padStart(6, "0")}-00000000`,
      type: "plugin_run",
      plugin: "echo",
      runId: "00000000-0000-4000-8000-000000000000",
      inputJson: '{"text":"hello"}',
      resultJson: '"hello"',
      outcome: "success",
      durationMs: 0,
    });
    if (i >= 20) times.push(performance.now() - started); // the first 20 warm the connection and the JIT
  }
  return summarise(times);
}

/** `count` POSTs one after the other over one keep-alive connection; latency of each. */
export async function serialPosts(url: string, body: (i: number) => string, count: number): Promise<LatencySample> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < count + 20; i++) {
      const payload = body(i);
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          url,
          { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(payload);
      });
      if (status !== 200) throw new Error(`${url} answered ${status} to ${payload}`);
      if (i >= 20) times.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
  }
  return summarise(times);
}
