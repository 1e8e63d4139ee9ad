import { describe, expect, it } from "vitest";
import type { LoadResult } from "../../../bench/load.js";
import type { ImportSummary } from "../../../bench/bundle_import.js";
import { dataComment, readPreviousResults } from "../../../bench/previous.js";
import {
  auditedTargets,
  boundOf,
  compareRows,
  firstAnswerLines,
  importTarget,
  mcpSdkBound,
  mcpTarget,
  perTurn,
  ratios,
  target,
  turnCostText,
  type ImportRow,
  type Row,
} from "../../../bench/report.js";
import { diffRedis, redisRoundTrips, type TurnCost } from "../../../bench/turn_cost.js";
import { median, percentile, ratio } from "../../../bench/stats.js";

function result(requestsPerSecond: number, fields: Partial<LoadResult> = {}, cpu: Partial<LoadResult["cpu"]> = {}): LoadResult {
  return {
    requestsPerSecond,
    p50Ms: 1,
    p99Ms: 5,
    ok2xx: requestsPerSecond * 10,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    statusCodes: { "200": requestsPerSecond * 10 },
    durationSeconds: 10,
    cpu: { processes: { server: 0.5, client: 0.5 }, others: 0, steal: 0, serverRunQueueWait: 0, ...cpu },
    ...fields,
  };
}

const rows = (echoRps: number, echoFields: Partial<LoadResult> = {}): Row[] => [
  { id: "bare", label: "bare", request: "", kind: "bare", result: result(50_000) },
  { id: "floor", label: "floor", request: "", kind: "floor", result: result(10_000) },
  { id: "echo", label: "echo", request: "", kind: "host", result: result(echoRps, echoFields) },
];

describe("bench statistics", () => {
  it("takes nearest-rank percentiles of a sorted array", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(percentile(new Float64Array([0.5, 1.5, 2.5]), 50)).toBe(1.5);
  });

  it("takes the median of unsorted values and guards ratios", () => {
    expect(median([300, 100, 200])).toBe(200);
    expect(ratio(5, 10)).toBe(0.5);
    expect(ratio(5, 0)).toBeUndefined();
    expect(ratio(undefined, 10)).toBeUndefined();
  });
});

describe("bench report", () => {
  it("compares host rows with bare and floor, and the floor only with bare", () => {
    const all = rows(8_000);
    expect(ratios(all, all[2]!)).toEqual({ vsBare: 8_000 / 50_000, vsFloor: 0.8 });
    expect(ratios(all, all[1]!)).toEqual({ vsBare: 0.2, vsFloor: undefined });
    expect(ratios(all, all[0]!)).toEqual({ vsBare: undefined, vsFloor: undefined });
  });

  it("passes the target only at ≥ 80% of the floor with p99 under 10 ms and no failures", () => {
    expect(target(rows(8_000)).pass).toBe(true);
    expect(target(rows(7_999)).text).toMatch(/^MISS/);
    expect(target(rows(9_000, { p99Ms: 10 })).pass).toBe(false);
    expect(target(rows(9_000, { non2xx: 1 })).pass).toBe(false);
  });

  it("measures the MCP row against (a) and says the best the SDK's own exchange leaves it", () => {
    const server = (share: number) => ({ processes: { server: share, client: 0.5 } });
    const mcpRows: Row[] = [
      { id: "floor", label: "adapter floor", request: "", kind: "floor", result: result(10_000, {}, server(0.6)) }, // 60 µs a request
      { id: "mcpfloor", label: "MCP SDK floor", request: "", kind: "floor", result: result(2_000, {}, server(1)) }, // 500 µs
      { id: "echo", label: "(a) execute echo", request: "", kind: "host", result: result(10_000, {}, server(1)) }, // 100 µs
      { id: "mcp", label: "(a′) MCP tools/call echo", request: "", kind: "host", result: result(1_500, {}, server(1)) },
    ];
    const bound = mcpSdkBound(mcpRows)!;
    expect(bound.exchangeUs).toBeCloseTo(440);
    expect(bound.echoUs).toBeCloseTo(100);
    expect(bound.share).toBeCloseTo(100 / 540);
    const t = mcpTarget(mcpRows)!;
    expect(t.pass).toBe(false);
    expect(t.text).toMatch(
      /^MISS: .* = 15% of \(a\) execute echo's .*costs 440 µs .*against \(a\)'s 100 µs: .* would reach about 19% of \(a\); served, they add up only roughly$/,
    );
    const withoutSdkFloor = mcpRows.filter((r) => r.id !== "mcpfloor");
    expect(mcpSdkBound(withoutSdkFloor)).toBeUndefined();
    expect(mcpTarget(withoutSdkFloor)!.text).not.toMatch(/would reach/);
    expect(mcpTarget([mcpRows[0]!, { ...mcpRows[3]!, result: result(6_000) }, { ...mcpRows[2]!, result: result(10_000) }])!.pass).toBe(true);
  });

  it("names the saturated resource and flags rows disturbed by other processes", () => {
    const row = (cpu: Partial<LoadResult["cpu"]>): Row => ({ id: "echo", label: "echo", request: "", kind: "host", result: result(1000, {}, cpu) });
    expect(boundOf(row({ processes: { server: 1.05, client: 0.3 } }), 2)).toMatch(/^the server's CPU/);
    expect(boundOf(row({ processes: { server: 0.3, client: 0.95 } }), 2)).toMatch(/^the load generator's CPU/);
    expect(boundOf(row({ processes: { server: 1, client: 0.5 }, others: 0.4 }), 2)).toMatch(/^machine CPU .*disturbed/);
    expect(boundOf(row({ processes: { server: 0.2, client: 0.2 } }), 2)).toMatch(/^no process saturated a core.*32\.00 ms/);
  });

  it("counts Table write requests and Redis round trips per acknowledged turn, a MULTI…EXEC as one round trip", () => {
    const cost: TurnCost = {
      turns: 1000,
      inFlightAtEdges: 64,
      table: { batch: 1000, otherWrites: 0, reads: 10 },
      redis: { calls: { multi: 1000, rpush: 1000, ltrim: 1000, expire: 1000, exec: 1000 } },
    };
    expect(perTurn(cost)).toEqual({ tableWrites: 1, batches: 1, tableReads: 0.01, redisRoundTrips: 1, multi: 1 });
    // A command sent on its own (a rate limiter's, say) is a round trip of its own.
    expect(redisRoundTrips({ calls: { multi: 10, rpush: 10, exec: 10, evalsha: 10 } })).toBe(20);
    expect(turnCostText(cost)).toMatch(
      /^1\.00 Table write requests per turn \(1\.00 entity-group transactions, 0\.01 reads\); 1\.00 Redis round trips per turn \(1\.00 MULTI/,
    );
    expect(turnCostText(cost)).toContain("at least 0.94 Table write requests per turn");
    // Without Redis in the row the report says so rather than printing 0.
    expect(turnCostText({ ...cost, redis: undefined, redisNote: "no Redis in this row" })).toContain("Redis not measured: no Redis in this row");
    expect(perTurn({ ...cost, turns: 0 }).tableWrites).toBeNaN();
  });

  it("takes the commandstats difference of a run, leaving out commands that did not run", () => {
    expect(diffRedis({ calls: { multi: 15, get: 3, ping: 1 } }, { calls: { multi: 5, get: 3, ping: 1 } })).toEqual({ calls: { multi: 10 } });
    expect(diffRedis({ calls: { exec: 2 } }, { calls: {} })).toEqual({ calls: { exec: 2 } });
  });

  it("passes an audited row only at ≥ 40% of the echo row's req/s in the same run, with no failures", () => {
    const cost: TurnCost = { turns: 1, inFlightAtEdges: 0, table: { batch: 1, otherWrites: 0, reads: 0 } };
    const audited = (rps: number, fields: Partial<LoadResult> = {}): Row[] => [
      ...rows(5_000),
      { id: "session", label: "(d) audited", request: "", kind: "host", result: result(rps, fields), turnCost: cost },
      { id: "list", label: "unaudited", request: "", kind: "host", result: result(100) },
    ];
    expect(auditedTargets(audited(2_000))).toEqual([
      { pass: true, text: expect.stringMatching(/^PASS: \(d\) audited: 2,000 req\/s = 40% of \(a\) execute echo's 5,000/) },
    ]);
    expect(auditedTargets(audited(1_999))[0]!.text).toMatch(/^MISS/);
    expect(auditedTargets(audited(3_000, { errors: 2 }))[0]!.pass).toBe(false);
    expect(auditedTargets(audited(3_000).filter((r) => r.id !== "echo"))[0]!.text).toMatch(/^MISS: .*echo row is missing/);
  });
});

describe("bench: the cold-start import row and the previous results", () => {
  const summary = (wallMs: number, cpuMs: number, peakRssMb: number): ImportSummary => ({
    name: "",
    file: "",
    loadedBytes: 0,
    samples: [],
    wallMs,
    cpuMs,
    peakRssMb,
  });
  const minimal: ImportRow = { id: "minimal", label: "minimal", summary: summary(100, 80, 40) };

  it("passes the import only within 1.5× the minimal app's wall and CPU and 1.3× its peak RSS", () => {
    expect(importTarget({ id: "plain", label: "app", summary: summary(150, 120, 52) }, minimal).pass).toBe(true);
    expect(importTarget({ id: "plain", label: "app", summary: summary(151, 120, 52) }, minimal).text).toMatch(
      /^MISS: .*wall 1\.51× \(needs ≤ 1\.50×: not met\)/,
    );
    expect(importTarget({ id: "plain", label: "app", summary: summary(150, 121, 52) }, minimal).pass).toBe(false);
    expect(importTarget({ id: "plain", label: "app", summary: summary(150, 120, 53) }, minimal).pass).toBe(false);
  });

  it("reports each first answer against the minimal app's, CPU and wall from the process's start", () => {
    const row = (label: string, firstAnswerCpuMs: number, firstAnswerWallMs: number) => ({
      label,
      status: 200,
      importCpuMs: 1,
      firstAnswerCpuMs,
      firstAnswerWallMs,
      invocationWallMs: 1,
      peakRssMb: 40,
    });
    const lines = firstAnswerLines({ runs: 9, rows: [row("minimal", 40, 50), row("echo", 120, 100)] });
    expect(lines.find((l) => l.startsWith("| minimal |"))).toMatch(/\| 1 \| 1 \|$/);
    expect(lines.find((l) => l.startsWith("| echo |"))).toMatch(/\| 120 \| 100 \| 1 \| 40 \| 3\.00× \| 2\.00× \|$/);
  });

  it("reads the previous figures from the table of an older results.md, and from the data a newer one carries", () => {
    const older = [
      "Written by `npm run bench` (bench/run.ts) on 2026-11-30T17:02:05.619Z; the whole run took 103 s.",
      "## Load",
      "",
      "| row | request | req/s | p50 ms | p99 ms | 2xx | non-2xx | errors | vs bare | vs floor | CPU (share of one core) |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
      "| floor | POST / (echo body) | 10,000 | 7.03 | 20.14 | 46388 | 0 | 0 | 21% | – | server 103% |",
      "| echo | POST /api/plugins/execute echo | 6,000 | 11.34 | 28.56 | 27517 | 0 | 0 | 12% | 59% | server 105% |",
      "",
      "## Cold start",
      "- With STORAGE_CONNECTION_STRING set to the running Azurite (5 starts): min 852 ms, median 902 ms, max 982 ms.",
      "## What bounds each figure",
      "- **echo**: the server's CPU — its one JavaScript thread is saturated (server 105% of a core = 421 µs of server CPU per request, autocannon 26%).",
    ].join("\n");
    const previous = readPreviousResults(older)!;
    expect(previous.date).toBe("2026-11-30T17:02:05.619Z");
    expect(previous.code).toBeUndefined();
    expect(
      readPreviousResults(older.replace("on 2026-11-30T17:02:05.619Z;", "on 2026-11-30T17:02:05.619Z, measuring the code at commit `abc1234`;"))!.code,
    ).toBe("abc1234");
    expect(previous.rows.get("echo")).toEqual({ requestsPerSecond: 6_000, p99Ms: 28.56, serverCpuUs: 421 });
    expect(previous.hostFirstAnswerMs).toBe(902);
    const newer = readPreviousResults(
      `# Benchmark results\n${dataComment({ date: "d", code: "def5678", rows: { echo: { requestsPerSecond: 7, p99Ms: 1 } }, imports: { plain: { wall: 2, cpu: 2, rss: 1.2 } } })}\n`,
    )!;
    expect(newer.rows.get("echo")).toEqual({ requestsPerSecond: 7, p99Ms: 1 });
    expect(newer.code).toBe("def5678");
    expect(newer.imports.get("plain")).toEqual({ wall: 2, cpu: 2, rss: 1.2 });
    expect(readPreviousResults(undefined)).toBeUndefined();
    expect(readPreviousResults("nothing to read")).toBeUndefined();
  });

  it("compares host rows as a share of their run's floor and flags one more than 10% below", () => {
    const previous = readPreviousResults(
      dataComment({ date: "d", rows: { floor: { requestsPerSecond: 10_000, p99Ms: 1 }, echo: { requestsPerSecond: 6_000, p99Ms: 1 } } }),
    )!;
    // Half the machine: the floor halves, echo at the same share of it is no change.
    const same = compareRows(
      rows(3_000)
        .map((r) => (r.id === "floor" ? { ...r, result: result(5_000) } : r))
        .filter((r) => r.id !== "bare"),
      previous,
    );
    expect(same.find((c) => c.label === "echo")).toMatchObject({ before: 0.6, now: 0.6, slower: false, unit: "share of floor" });
    expect(same.find((c) => c.label === "floor")).toMatchObject({ before: 10_000, now: 5_000, slower: true, unit: "req/s" });
    const slower = compareRows(rows(5_300), previous).find((c) => c.label === "echo")!;
    expect(slower.now).toBeCloseTo(0.53);
    expect(slower.slower).toBe(true);
    expect(compareRows(rows(5_500), previous).find((c) => c.label === "echo")!.slower).toBe(false);
    expect(compareRows(rows(5_500), undefined)).toEqual([]);
  });
});
