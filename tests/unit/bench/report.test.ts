import { describe, expect, it } from "vitest";
import type { LoadResult } from "../../../bench/load.js";
import { boundOf, ratios, target, type Row } from "../../../bench/report.js";
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

  it("names the saturated resource and flags rows disturbed by other processes", () => {
    const row = (cpu: Partial<LoadResult["cpu"]>): Row => ({ id: "echo", label: "echo", request: "", kind: "host", result: result(1000, {}, cpu) });
    expect(boundOf(row({ processes: { server: 1.05, client: 0.3 } }), 2)).toMatch(/^the server's CPU/);
    expect(boundOf(row({ processes: { server: 0.3, client: 0.95 } }), 2)).toMatch(/^the load generator's CPU/);
    expect(boundOf(row({ processes: { server: 1, client: 0.5 }, others: 0.4 }), 2)).toMatch(/^machine CPU .*disturbed/);
    expect(boundOf(row({ processes: { server: 0.2, client: 0.2 } }), 2)).toMatch(/^no process saturated a core.*32\.00 ms/);
  });
});
