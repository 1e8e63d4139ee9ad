/** Turns the measurements into the console table and bench/results.md. */
import { cpus, release, totalmem, type as osType } from "node:os";
import type { LatencySample } from "./audit.js";
import type { ImportSummary } from "./bundle_import.js";
import type { FirstAnswers } from "./first_invocation.js";
import { dataComment, type BenchData, type PreviousResults } from "./previous.js";
import type { LoadResult, LoadSettings } from "./load.js";
import { median, ratio } from "./stats.js";
import { redisRoundTrips, type TurnCost } from "./turn_cost.js";

export type RowKind = "bare" | "floor" | "host";

export interface Row {
  readonly id: string;
  readonly label: string;
  readonly request: string;
  readonly kind: RowKind;
  readonly result: LoadResult;
  /** Audited rows: what their turns cost the stores, counted at the stores. */
  readonly turnCost?: TurnCost;
}

export interface AuditCheck {
  readonly sessions: number;
  /** 2xx responses autocannon counted in the measured run. */
  readonly autocannon2xx: number;
  /** Distinct runIds in those 2xx response bodies: the runs the host acknowledged. */
  readonly acknowledged: number;
  /** Acknowledged runIds that are in the audit log. */
  readonly found: number;
  readonly missing: number;
  /** Successful plugin_run entries in the log whose response the client never saw (in flight when the run stopped). */
  readonly unacknowledgedInLog: number;
  readonly entriesRead: number;
  readonly pagesRead: number;
  readonly readMs: number;
}

export interface WriteCost {
  /** createEntity against Azurite from this process, one at a time. */
  readonly direct: LatencySample;
  /** One echo at a time through the host, without and with a session (the difference is the audit write as the host pays it). */
  readonly hostWithout: LatencySample;
  readonly hostWith: LatencySample;
}

export interface ColdStart {
  readonly withStorageMs: readonly number[];
  readonly withoutStorageMs: readonly number[];
  readonly pollMs: number;
}

/** One bundle of the import row: the minimal Functions app (the floor), or the app's Functions bundle without or with telemetry. */
export interface ImportRow {
  readonly id: "minimal" | "plain" | "telemetry";
  readonly label: string;
  readonly summary: ImportSummary;
}

export interface BundleImport {
  readonly runs: number;
  readonly rows: readonly ImportRow[];
}

/** Issue 13: importing the Functions bundle against the minimal Functions app, in the same run. */
const importTargets = { wall: 1.5, cpu: 1.5, rss: 1.3 } as const;

export interface Report {
  readonly date: Date;
  /** The commit measured (`git rev-parse --short HEAD`), "with uncommitted changes" when the working tree differs from it. */
  readonly code: string;
  readonly settings: LoadSettings;
  readonly rows: readonly Row[];
  readonly audit: AuditCheck;
  readonly writeCost: WriteCost;
  readonly coldStart: ColdStart;
  readonly bundleImport?: BundleImport;
  /** Import and first invocation: what the lazy loading of the functions' code leaves for the first request. */
  readonly firstAnswers?: FirstAnswers;
  /** The results this run replaces, to compare every row with. */
  readonly previous?: PreviousResults;
  /** CPU other processes used in the second before the run, in cores. */
  readonly background: number | undefined;
  readonly totalSeconds: number;
}

export interface Target {
  readonly pass: boolean;
  readonly text: string;
}

const targetShare = 0.8;
const targetP99Ms = 10;

export function machine(): { cpu: string; cores: number; memoryGiB: number; node: string; os: string } {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    os: `${osType()} ${release()}`,
  };
}

function rowById(rows: readonly Row[], id: string): Row | undefined {
  return rows.find((r) => r.id === id);
}

export function ratios(rows: readonly Row[], row: Row): { vsBare: number | undefined; vsFloor: number | undefined } {
  const bare = rowById(rows, "bare")?.result.requestsPerSecond;
  const floor = rowById(rows, "floor")?.result.requestsPerSecond;
  return {
    vsBare: row.kind === "bare" ? undefined : ratio(row.result.requestsPerSecond, bare),
    vsFloor: row.kind === "host" ? ratio(row.result.requestsPerSecond, floor) : undefined,
  };
}

export function target(rows: readonly Row[]): Target {
  const echo = rowById(rows, "echo");
  const floor = rowById(rows, "floor");
  if (!echo || !floor) return { pass: false, text: "MISS: the echo or adapter-floor row is missing" };
  const ofFloor = echo.result.requestsPerSecond / floor.result.requestsPerSecond;
  const p99 = echo.result.p99Ms;
  const shareOk = ofFloor >= targetShare;
  const p99Ok = p99 < targetP99Ms;
  const clean = echo.result.non2xx === 0 && echo.result.errors === 0;
  const pass = shareOk && p99Ok && clean;
  const parts = [
    `${fmtRps(echo.result.requestsPerSecond)} req/s = ${pct(ofFloor)} of the adapter floor's ${fmtRps(floor.result.requestsPerSecond)} (needs ≥ ${pct(targetShare)}: ${shareOk ? "met" : "not met"})`,
    `p99 ${fmtMs(p99)} ms (needs < ${targetP99Ms} ms: ${p99Ok ? "met" : "not met"})`,
  ];
  if (!clean) parts.push(`${echo.result.non2xx} non-2xx and ${echo.result.errors} errors`);
  const noisy = [floor, echo].filter((r) => (r.result.cpu.others ?? 0) > disturbedAbove);
  if (noisy.length > 0)
    parts.push(
      `measured while other processes used CPU (${noisy.map((r) => `${r.label}: others ${share(r.result.cpu.others)}`).join(", ")}) — repeat on an idle machine`,
    );
  return { pass, text: `${pass ? "PASS" : "MISS"}: echo without a session: ${parts.join("; ")}` };
}

/** Issue 19: an MCP tools/call of echo (a 2026-07-28 request) at ≥ 50% of the execute echo row's req/s in the same run. */
const mcpTargetShare = 0.5;

export function mcpTarget(rows: readonly Row[]): Target | undefined {
  const mcp = rowById(rows, "mcp");
  const echo = rowById(rows, "echo");
  if (!mcp) return undefined;
  if (!echo) return { pass: false, text: "MISS: MCP tools/call echo: the echo row is missing" };
  const ofEcho = mcp.result.requestsPerSecond / echo.result.requestsPerSecond;
  const clean = mcp.result.non2xx === 0 && mcp.result.errors === 0;
  const pass = ofEcho >= mcpTargetShare && clean;
  const failures = clean ? "" : `; ${mcp.result.non2xx} non-2xx and ${mcp.result.errors} errors`;
  const bound = mcpSdkBound(rows);
  const bounded = bound
    ? `; the SDK's exchange alone costs ${fmtUs(bound.exchangeUs)} of server CPU per request (the MCP SDK floor's less the adapter floor's) against (a)'s ${fmtUs(bound.echoUs)}: were the two to add up (an MCP call does what (a) does and that exchange besides), it would reach about ${pct(bound.share)} of (a); served, they add up only roughly`
    : "";
  return {
    pass,
    text: `${pass ? "PASS" : "MISS"}: ${mcp.label}: ${fmtRps(mcp.result.requestsPerSecond)} req/s = ${pct(ofEcho)} of (a) execute echo's ${fmtRps(echo.result.requestsPerSecond)} (needs ≥ ${pct(mcpTargetShare)})${failures}${bounded}`,
  };
}

/**
 * The share of (a)'s requests/s an MCP tools/call of echo would reach with the SDK unmodified
 * were costs to add up, from server CPU per request: the call does all that (a) does (the gate, the
 * runner) and the SDK's exchange besides, which costs the MCP SDK floor's CPU less the adapter
 * floor's. An estimate from rows measured one after another, not a bound: served, (a′) has measured
 * a few points above it (bench/README.md). Undefined without those rows or their CPU figures.
 */
export function mcpSdkBound(rows: readonly Row[]): { exchangeUs: number; echoUs: number; share: number } | undefined {
  const [echoUs, floorUs, sdkFloorUs] = ["echo", "floor", "mcpfloor"].map((id) => {
    const row = rowById(rows, id);
    return row ? cpuPerRequestUs(row.result) : undefined;
  });
  if (echoUs === undefined || floorUs === undefined || sdkFloorUs === undefined) return undefined;
  const exchangeUs = Math.max(0, sdkFloorUs - floorUs);
  return { exchangeUs, echoUs, share: echoUs / (echoUs + exchangeUs) };
}

/** Issue 10: an audited row at ≥ 40% of the unaudited echo row's req/s in the same run. */
const auditedTargetShare = 0.4;

/** Per acknowledged turn: Table requests and Redis round trips, as counted at the stores. */
export function perTurn(cost: TurnCost): { tableWrites: number; batches: number; tableReads: number; redisRoundTrips?: number; multi?: number } {
  const per = (n: number) => (cost.turns > 0 ? n / cost.turns : Number.NaN);
  return {
    tableWrites: per(cost.table.batch + cost.table.otherWrites),
    batches: per(cost.table.batch),
    tableReads: per(cost.table.reads),
    ...(cost.redis ? { redisRoundTrips: per(redisRoundTrips(cost.redis)), multi: per(cost.redis.calls.multi ?? 0) } : {}),
  };
}

function fmtPerTurn(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "n/a";
}

export function turnCostText(cost: TurnCost): string {
  const p = perTurn(cost);
  const table = `${fmtPerTurn(p.tableWrites)} Table write requests per turn (${fmtPerTurn(p.batches)} entity-group transactions, ${fmtPerTurn(p.tableReads)} reads)`;
  const commands = cost.redis
    ? Object.entries(cost.redis.calls)
        .toSorted(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name} ${fmtPerTurn(n / cost.turns)}`)
        .join(", ")
    : "";
  const redis = cost.redis
    ? `${fmtPerTurn(p.redisRoundTrips!)} Redis round trips per turn (${fmtPerTurn(p.multi!)} MULTI${commands ? `; commands per turn: ${commands}` : "; no commands"})`
    : `Redis not measured: ${cost.redisNote ?? "no Redis in this row"}`;
  const lower = cost.turns + cost.inFlightAtEdges > 0 ? (cost.table.batch + cost.table.otherWrites) / (cost.turns + cost.inFlightAtEdges) : Number.NaN;
  return `${table}; ${redis}; over ${cost.turns} acknowledged turns (up to ${cost.inFlightAtEdges} more were in flight at the run's edges and may be counted at the stores: counting them, at least ${fmtPerTurn(lower)} Table write requests per turn)`;
}

/** Every audited row (one with a turn cost) against the echo row of the same run. */
export function auditedTargets(rows: readonly Row[]): Target[] {
  const echo = rowById(rows, "echo");
  return rows
    .filter((row) => row.turnCost !== undefined)
    .map((row) => {
      if (!echo) return { pass: false, text: `MISS: ${row.label}: the echo row is missing` };
      const ofEcho = row.result.requestsPerSecond / echo.result.requestsPerSecond;
      const clean = row.result.non2xx === 0 && row.result.errors === 0;
      const pass = ofEcho >= auditedTargetShare && clean;
      const failures = clean ? "" : `; ${row.result.non2xx} non-2xx and ${row.result.errors} errors`;
      return {
        pass,
        text: `${pass ? "PASS" : "MISS"}: ${row.label}: ${fmtRps(row.result.requestsPerSecond)} req/s = ${pct(ofEcho)} of (a) execute echo's ${fmtRps(echo.result.requestsPerSecond)} (needs ≥ ${pct(auditedTargetShare)})${failures}`,
      };
    });
}

function fmtRps(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function fmtMs(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "n/a";
}

function pct(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "–" : `${(value * 100).toFixed(0)}%`;
}

function share(value: number | undefined): string {
  return value === undefined ? "n/a" : `${(value * 100).toFixed(0)}%`;
}

function cpuText(result: LoadResult): string {
  const { server, client, azurite } = result.cpu.processes;
  const parts = [`server ${share(server)}`, `client ${share(client)}`];
  if (azurite !== undefined && azurite > 0.02) parts.push(`Azurite ${share(azurite)}`);
  if (result.cpu.others !== undefined) parts.push(`others ${share(result.cpu.others)}`);
  return parts.join(", ");
}

/** The console version: one line per row. */
export function consoleTable(rows: readonly Row[]): string {
  const header = ["row", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "vs bare", "vs floor", "CPU (share of one core)"];
  const lines = rows.map((row) => {
    const r = ratios(rows, row);
    return [
      row.label,
      fmtRps(row.result.requestsPerSecond),
      fmtMs(row.result.p50Ms),
      fmtMs(row.result.p99Ms),
      String(row.result.non2xx),
      String(row.result.errors),
      pct(r.vsBare),
      pct(r.vsFloor),
      cpuText(row.result),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [format(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(format)].join("\n");
}

/** Server CPU time per answered request, in µs. */
function cpuPerRequestUs(result: LoadResult): number | undefined {
  const server = result.cpu.processes.server;
  return server === undefined || !(result.requestsPerSecond > 0) ? undefined : (server * 1e6) / result.requestsPerSecond;
}

function fmtUs(value: number | undefined): string {
  return value === undefined ? "n/a" : `${Math.round(value)} µs`;
}

/** Other processes using more than this many cores during a row make its figures unreliable. */
export const disturbedAbove = 0.1;

/** What held each row back, read from the CPU each process used. */
export function boundOf(row: Row, cores: number): string {
  const { server, client, azurite } = row.result.cpu.processes;
  const { others, serverRunQueueWait, steal } = row.result.cpu;
  const total = (server ?? 0) + (client ?? 0) + (azurite ?? 0) + (others ?? 0);
  const inFlightMs = row.result.requestsPerSecond > 0 ? (32 * 1000) / row.result.requestsPerSecond : Number.NaN;
  const used =
    `server ${share(server)} of a core = ${fmtUs(cpuPerRequestUs(row.result))} of server CPU per request, autocannon ${share(client)}` +
    (azurite !== undefined && azurite > 0.02 ? `, Azurite ${share(azurite)}` : "") +
    (others !== undefined ? `, other processes ${share(others)}` : "") +
    `; ${share(total / cores)} of the machine` +
    (serverRunQueueWait !== undefined ? `; the server's main thread waited for a free CPU ${share(serverRunQueueWait)} of the time` : "") +
    (steal !== undefined && steal > 0.02 ? `; hypervisor steal ${share(steal)}` : "");
  const disturbed =
    others !== undefined && others > disturbedAbove
      ? " — disturbed: other processes on this machine used CPU during this row, so the figure is lower than the machine can do"
      : "";
  if (total >= 0.9 * cores) {
    const busiest = (
      [
        ["the server", server ?? 0],
        ["autocannon", client ?? 0],
        ["Azurite", azurite ?? 0],
        ["other processes", others ?? 0],
      ] as const
    ).toSorted((a, b) => b[1] - a[1]);
    return `machine CPU — all ${cores} cores busy, the largest share is ${busiest[0]![0]}'s (${used})${disturbed}`;
  }
  if (server !== undefined && server >= 0.9) return `the server's CPU — its one JavaScript thread is saturated (${used})${disturbed}`;
  if (client !== undefined && client >= 0.9) return `the load generator's CPU — the server could go faster than this figure (${used})${disturbed}`;
  if (azurite !== undefined && azurite >= 0.9) return `Azurite's CPU (${used})${disturbed}`;
  return `no process saturated a core (${used}); each request was in flight ${fmtMs(inFlightMs)} ms on average (32 connections / req/s), so waiting, not CPU, set the rate${disturbed}`;
}

interface ImportRatios {
  readonly wall: number;
  readonly cpu: number;
  readonly rss: number;
}

function importRatios(row: ImportRow, minimal: ImportRow): ImportRatios {
  return {
    wall: row.summary.wallMs / minimal.summary.wallMs,
    cpu: row.summary.cpuMs / minimal.summary.cpuMs,
    rss: row.summary.peakRssMb / minimal.summary.peakRssMb,
  };
}

/** PASS when the bundle's import stays within the targets of issue 13 against the minimal app of the same run. */
export function importTarget(row: ImportRow, minimal: ImportRow): Target {
  const r = importRatios(row, minimal);
  const parts = [
    `wall ${times(r.wall)} (needs ≤ ${times(importTargets.wall)}: ${r.wall <= importTargets.wall ? "met" : "not met"})`,
    `CPU ${times(r.cpu)} (needs ≤ ${times(importTargets.cpu)}: ${r.cpu <= importTargets.cpu ? "met" : "not met"})`,
    `peak RSS ${times(r.rss)} (needs ≤ ${times(importTargets.rss)}: ${r.rss <= importTargets.rss ? "met" : "not met"})`,
  ];
  const pass = r.wall <= importTargets.wall && r.cpu <= importTargets.cpu && r.rss <= importTargets.rss;
  return { pass, text: `${pass ? "PASS" : "MISS"}: import of ${row.label} against the minimal Functions app: ${parts.join("; ")}` };
}

export function importTargetsOf(imports: BundleImport | undefined): Target[] {
  const minimal = imports?.rows.find((r) => r.id === "minimal");
  if (!imports || !minimal) return [];
  return imports.rows.filter((r) => r.id !== "minimal").map((row) => importTarget(row, minimal));
}

function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a";
}

function importLines(imports: BundleImport): string[] {
  const minimal = imports.rows.find((r) => r.id === "minimal")!;
  const lines: string[] = [];
  lines.push("## Cold start: importing the Functions bundle", "");
  lines.push(
    `A fresh \`node\` process imports the bundle and exits (bench/bundle_import.ts), ${imports.runs} times per bundle, the bundles alternating, after one discarded round; medians. Wall: spawn to exit, seen from the benchmark; CPU: the child's user+system time after the import; peak RSS: its maxRSS. The minimal Functions app (bench/minimal_app/main.ts: one HTTP function registered with \`@azure/functions\`, nothing else) is bundled with the same esbuild settings. Both run with the settings an instance in Azure has (WEBSITE_INSTANCE_ID, FUNCTIONS_WORKER_RUNTIME, AUTH_MODE=jwt, storage), and a stand-in for the worker's \`@azure/functions-core\`; "with telemetry" adds APPLICATIONINSIGHTS_CONNECTION_STRING (its ingestion endpoint a closed loopback port), as Azure always sets it. Loaded: the entry file and the chunks it imports statically (esbuild's metafile).`,
    "",
  );
  lines.push(
    "| bundle | loaded | wall ms | CPU ms | peak RSS MB | wall × minimal | CPU × minimal | RSS × minimal | target (≤ 1.5× wall and CPU, ≤ 1.3× RSS) |",
  );
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const row of imports.rows) {
    const r = importRatios(row, minimal);
    const verdict = row.id === "minimal" ? "–" : importTarget(row, minimal).pass ? "PASS" : "MISS";
    const s = row.summary;
    lines.push(
      `| ${row.label} | ${(s.loadedBytes / 1024).toFixed(0)} KiB | ${s.wallMs.toFixed(0)} | ${s.cpuMs.toFixed(0)} | ${s.peakRssMb.toFixed(0)} | ${row.id === "minimal" ? "1" : times(r.wall)} | ${row.id === "minimal" ? "1" : times(r.cpu)} | ${row.id === "minimal" ? "1" : times(r.rss)} | ${verdict} |`,
    );
  }
  lines.push("");
  for (const verdict of importTargetsOf(imports)) lines.push(`- **Target: ${verdict.text}**`);
  lines.push("");
  return lines;
}

export function firstAnswerLines({ runs, rows }: FirstAnswers): string[] {
  const minimal = rows[0]!;
  const lines: string[] = ["## Cold start: the first answer of a new instance", ""];
  lines.push(
    `The import above leaves each function's code for its first invocation (functions/main.ts), so the import alone does not show what the first request waits for. Here a fresh \`node\` process imports the bundle, then calls the registered handler once as the worker does, with \`@azure/functions\`' HttpRequest and InvocationContext (bench/first_invocation.ts); ${runs} processes each, alternating, after one discarded round; medians. CPU and wall from the process's start. AUTH_MODE none and in-process memory, so that nothing on these paths waits for a network. Reported, no target.`,
    "",
  );
  lines.push(
    "| process | status | CPU at import ms | CPU at first answer ms | wall at first answer ms | of which the invocation ms | peak RSS MB | CPU × minimal | wall × minimal |",
  );
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    lines.push(
      `| ${row.label} | ${row.status} | ${row.importCpuMs.toFixed(0)} | ${row.firstAnswerCpuMs.toFixed(0)} | ${row.firstAnswerWallMs.toFixed(0)} | ${row.invocationWallMs.toFixed(0)} | ${row.peakRssMb.toFixed(0)} | ${row === minimal ? "1" : times(row.firstAnswerCpuMs / minimal.firstAnswerCpuMs)} | ${row === minimal ? "1" : times(row.firstAnswerWallMs / minimal.firstAnswerWallMs)} |`,
    );
  }
  lines.push("");
  return lines;
}

/** A row now against the same row in the previous results: host rows as a share of their run's floor, bare and floor as req/s. */
export interface RowComparison {
  readonly label: string;
  /** Server CPU per request before and now, in µs. */
  readonly cpuBefore: number | undefined;
  readonly cpuNow: number | undefined;
  /** Other processes used more than `disturbedAbove` of a core during the row now. */
  readonly disturbed: boolean;
  readonly before: number | undefined;
  readonly now: number;
  /** now / before of the compared figure (share of floor, or req/s); undefined when the row is new. */
  readonly change: number | undefined;
  readonly slower: boolean;
  readonly unit: "share of floor" | "req/s";
}

/** A row is flagged when its figure (share of the floor for host rows) is more than this much below the previous one's. */
const slowerThreshold = 0.1;

export function compareRows(rows: readonly Row[], previous: PreviousResults | undefined): RowComparison[] {
  if (!previous) return [];
  const floorNow = rowById(rows, "floor")?.result.requestsPerSecond;
  const floorLabel = rowById(rows, "floor")?.label;
  const floorBefore = floorLabel ? previous.rows.get(floorLabel)?.requestsPerSecond : undefined;
  return rows.map((row) => {
    const before = previous.rows.get(row.label);
    const common = {
      label: row.label,
      cpuBefore: before?.serverCpuUs,
      cpuNow: cpuPerRequestUs(row.result),
      disturbed: (row.result.cpu.others ?? 0) > disturbedAbove,
    };
    if (row.kind === "host") {
      const nowShare = ratio(row.result.requestsPerSecond, floorNow) ?? Number.NaN;
      const beforeShare = before ? ratio(before.requestsPerSecond, floorBefore) : undefined;
      const change = beforeShare === undefined ? undefined : nowShare / beforeShare;
      return {
        ...common,
        before: beforeShare,
        now: nowShare,
        change,
        slower: change !== undefined && change < 1 - slowerThreshold,
        unit: "share of floor" as const,
      };
    }
    const change = before ? row.result.requestsPerSecond / before.requestsPerSecond : undefined;
    return {
      ...common,
      before: before?.requestsPerSecond,
      now: row.result.requestsPerSecond,
      change,
      slower: change !== undefined && change < 1 - slowerThreshold,
      unit: "req/s" as const,
    };
  });
}

function comparisonLines(report: Report): string[] {
  const { previous, rows, coldStart, bundleImport } = report;
  const lines: string[] = ["## Against the previous results", ""];
  if (!previous) {
    lines.push("No previous bench/results.md with readable figures: nothing to compare with.", "");
    return lines;
  }
  lines.push(
    `The previous results (run of ${previous.date ?? "unknown date"}, ${previous.code ? `measuring the code at commit \`${previous.code}\`` : "its commit not recorded"}), read from the bench/results.md this run replaced. Host rows are compared as a share of their own run's adapter floor, so that a faster or slower machine does not count as a change of the app; bare node:http and the floor themselves as req/s. A row more than ${pct(slowerThreshold)} below its previous figure is flagged **SLOWER**.`,
    "",
  );
  lines.push("| row | before | now | change | | server CPU per request, before → now |");
  lines.push("| --- | ---: | ---: | ---: | --- | ---: |");
  const fmt = (c: RowComparison, v: number | undefined) => (v === undefined ? "–" : c.unit === "req/s" ? `${fmtRps(v)} req/s` : `${pct(v)} of floor`);
  for (const c of compareRows(rows, previous)) {
    const change = c.change === undefined ? "new row" : `${c.change >= 1 ? "+" : ""}${((c.change - 1) * 100).toFixed(0)}%`;
    const verdict = c.slower ? `**SLOWER**${c.disturbed ? " (disturbed run)" : ""}` : c.change === undefined ? "" : "ok";
    lines.push(`| ${c.label} | ${fmt(c, c.before)} | ${fmt(c, c.now)} | ${change} | ${verdict} | ${fmtUs(c.cpuBefore)} → ${fmtUs(c.cpuNow)} |`);
  }
  const hostNow = coldStart.withStorageMs.length > 0 ? median(coldStart.withStorageMs) : undefined;
  if (hostNow !== undefined) {
    const before = previous.hostFirstAnswerMs;
    const change = before === undefined ? undefined : hostNow / before;
    const verdict = change === undefined ? "" : change > 1 + slowerThreshold ? "**SLOWER**" : "ok";
    lines.push(
      `| local host: spawn → first 200 (median, storage configured) | ${before === undefined ? "–" : `${before.toFixed(0)} ms`} | ${hostNow.toFixed(0)} ms | ${change === undefined ? "new row" : `${change >= 1 ? "+" : ""}${((change - 1) * 100).toFixed(0)}%`} | ${verdict} |`,
    );
  }
  const minimal = bundleImport?.rows.find((r) => r.id === "minimal");
  for (const row of bundleImport?.rows ?? []) {
    if (!minimal || row.id === "minimal") continue;
    const now = importRatios(row, minimal);
    const before = previous.imports.get(row.id);
    const cell = (r: ImportRatios | undefined) => (r ? `wall ${times(r.wall)}, CPU ${times(r.cpu)}, RSS ${times(r.rss)}` : "– (not measured)");
    const slower = before !== undefined && (now.wall > before.wall * (1 + slowerThreshold) || now.cpu > before.cpu * (1 + slowerThreshold));
    lines.push(
      `| import of ${row.label} (× minimal app) | ${cell(before)} | ${cell(now)} | ${before ? `CPU ${times(now.cpu / before.cpu)}` : "new row"} | ${before ? (slower ? "**SLOWER**" : "ok") : ""} |`,
    );
  }
  lines.push("");
  const slower = compareRows(rows, previous).filter((c) => c.slower);
  lines.push(
    slower.length === 0
      ? `- No load row is more than ${pct(slowerThreshold)} slower than before (as a share of the floor).`
      : `- **${slower.length} row${slower.length === 1 ? "" : "s"} more than ${pct(slowerThreshold)} slower than before: ${slower.map((c) => c.label).join(", ")}.** Check "others" in the CPU column first: a busy machine lowers every figure. The server's CPU per request (last column) is what the app itself costs; where it did not rise, the machine, not the app, made the row slower.`,
    "",
  );
  return lines;
}

/** The figures the next run compares itself with. */
function benchData(report: Report): BenchData {
  const minimal = report.bundleImport?.rows.find((r) => r.id === "minimal");
  const imports: Record<string, ImportRatios> = {};
  for (const row of report.bundleImport?.rows ?? []) if (minimal && row.id !== "minimal") imports[row.id] = importRatios(row, minimal);
  return {
    date: report.date.toISOString(),
    code: report.code,
    rows: Object.fromEntries(
      report.rows.map((r) => {
        const cpu = cpuPerRequestUs(r.result);
        return [
          r.label,
          {
            requestsPerSecond: Math.round(r.result.requestsPerSecond),
            p99Ms: Number(r.result.p99Ms.toFixed(2)),
            ...(cpu === undefined ? {} : { serverCpuUs: Math.round(cpu) }),
          },
        ];
      }),
    ),
    ...(report.coldStart.withStorageMs.length > 0 ? { hostFirstAnswerMs: Math.round(median(report.coldStart.withStorageMs)) } : {}),
    imports,
  };
}

export function markdown(report: Report): string {
  const m = machine();
  const { settings, rows, audit, writeCost, coldStart } = report;
  const t = target(rows);
  const lines: string[] = [];
  lines.push("# Benchmark results", "");
  lines.push(
    `Written by \`npm run bench\` (bench/run.ts) on ${report.date.toISOString()}, measuring the code at commit \`${report.code}\`; the whole run took ${report.totalSeconds.toFixed(0)} s. Every run overwrites this file.`,
    "",
  );
  lines.push("## Machine", "");
  lines.push(`- CPU: ${m.cpu}, ${m.cores} logical cores`);
  lines.push(`- Memory: ${m.memoryGiB.toFixed(1)} GiB`);
  lines.push(`- Node: ${m.node}`);
  lines.push(`- OS: ${m.os}`, "");
  lines.push("## Settings", "");
  lines.push(
    `- autocannon ${settings.connections} connections, pipelining ${settings.pipelining}, ${settings.durationSeconds} s measured after a ${settings.warmupSeconds} s warm-up with the same settings (discarded); identical for every row.`,
  );
  lines.push(
    "- req/s: autocannon's average of its per-second samples. Latency: autocannon's own per-response times of the 2xx responses, percentiles by nearest rank (not its histogram, which rounds to whole ms).",
  );
  lines.push(
    "- Every server is its own process; autocannon runs in the benchmark process. CPU is each process's user+system time during the measured run (from /proc), as a share of one core; Node's GC and libuv threads count towards their process, so a share can pass 100%.",
  );
  lines.push(
    "- Local host: `node dist/src/host/start.js --local`, LOG_LEVEL=warn, AUTH_MODE none (no rate limiter), STORAGE_CONNECTION_STRING pointing at an Azurite in a separate process. Rows (a)–(c) run without REDIS_URL (in-process memory); the audited rows run on a second host process with REDIS_URL pointing at a redis-server the benchmark starts.",
  );
  lines.push(
    `- Other processes on the machine used ${report.background === undefined ? "an unknown share" : share(report.background)} of a core in the second before the run; the "others" CPU of each row is what they used during it.`,
  );
  const disturbed = rows.filter((r) => r.result.cpu.others !== undefined && r.result.cpu.others > disturbedAbove);
  if (disturbed.length > 0) {
    lines.push(
      `- **Warning: ${disturbed.length} of ${rows.length} rows ran while other processes used more than ${share(disturbedAbove)} of a core** (${disturbed.map((r) => `${r.label}: ${share(r.result.cpu.others)}`).join(", ")}): those figures are lower and noisier than this machine can do. Run again on an idle machine before drawing conclusions.`,
    );
  }
  lines.push("");
  lines.push("## Load", "");
  lines.push("| row | request | req/s | p50 ms | p99 ms | 2xx | non-2xx | errors | vs bare | vs floor | CPU (share of one core) |");
  lines.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const row of rows) {
    const r = ratios(rows, row);
    const codes =
      row.result.non2xx > 0
        ? ` (${Object.entries(row.result.statusCodes)
            .filter(([c]) => !c.startsWith("2"))
            .map(([c, n]) => `${c}×${n}`)
            .join(", ")})`
        : "";
    lines.push(
      `| ${row.label} | ${row.request} | ${fmtRps(row.result.requestsPerSecond)} | ${fmtMs(row.result.p50Ms)} | ${fmtMs(row.result.p99Ms)} | ${row.result.ok2xx} | ${row.result.non2xx}${codes} | ${row.result.errors} | ${pct(r.vsBare)} | ${pct(r.vsFloor)} | ${cpuText(row.result)} |`,
    );
  }
  lines.push("");
  lines.push(
    `**Target** (echo without a session at ≥ 80% of the adapter floor's req/s, p99 < 10 ms at ${settings.connections} connections): **${t.text}**`,
    "",
  );
  const mcp = mcpTarget(rows);
  if (mcp) lines.push(`**Target** (an MCP tools/call of echo at ≥ 50% of (a) execute echo's req/s): **${mcp.text}**`, "");
  const audited = rows.filter((r) => r.turnCost !== undefined);
  if (audited.length > 0) {
    lines.push("## Audited turns: store requests per turn and share of the echo row", "");
    lines.push(
      "Counted at the stores over each row's measured run and divided by its 2xx responses: Table requests where the benchmark's Azurite dispatches them (bench/servers/azurite_server.ts), Redis commands by `INFO commandstats` before and after. A MULTI…EXEC is one round trip (ioredis pipelines it). Requests in flight when a run starts or stops (at most one per connection at each end) reach the stores without being in the 2xx count, so a quotient can be high by up to 2 × connections / turns; the lines below give the bound counting them.",
      "",
    );
    lines.push(
      "| row | turns (2xx) | Table write requests / turn | of which transactions ($batch) | Table reads / turn | Redis round trips / turn | Redis MULTI / turn | req/s | share of (a) echo | target ≥ 40% |",
    );
    lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    const echo = rowById(rows, "echo");
    const verdicts = auditedTargets(rows);
    audited.forEach((row, i) => {
      const p = perTurn(row.turnCost!);
      const ofEcho = echo ? row.result.requestsPerSecond / echo.result.requestsPerSecond : undefined;
      lines.push(
        `| ${row.label} | ${row.turnCost!.turns} | ${fmtPerTurn(p.tableWrites)} | ${fmtPerTurn(p.batches)} | ${fmtPerTurn(p.tableReads)} | ${p.redisRoundTrips === undefined ? "not measured" : fmtPerTurn(p.redisRoundTrips)} | ${p.multi === undefined ? "not measured" : fmtPerTurn(p.multi)} | ${fmtRps(row.result.requestsPerSecond)} | ${pct(ofEcho)} | ${verdicts[i]!.pass ? "PASS" : "MISS"} |`,
      );
    });
    lines.push("");
    for (const row of audited) lines.push(`- ${row.label}: ${turnCostText(row.turnCost!)}.`);
    for (const verdict of verdicts) lines.push(`- **Target: ${verdict.text}**`);
    lines.push("");
  }
  lines.push("## Audit log of row (d)", "");
  const verdict = audit.missing === 0 && audit.acknowledged > 0 && audit.acknowledged === audit.autocannon2xx ? "OK" : "FAIL";
  lines.push(
    `- ${verdict}: ${audit.acknowledged} runs acknowledged (2xx with a runId; autocannon counted ${audit.autocannon2xx} 2xx), ${audit.found} of them found in the audit log, ${audit.missing} missing.`,
  );
  lines.push(
    `- ${audit.unacknowledgedInLog} further successful runs are in the log without an acknowledgement the client saw: requests still in flight when autocannon closed its connections (at most one per connection; allowed — the guarantee is that nothing acknowledged is missing).`,
  );
  lines.push(
    `- Read back through \`GET /api/memory/audit/{sessionId}?limit=200\` with \`cursor\`: ${audit.sessions} sessions, ${audit.entriesRead} entries, ${audit.pagesRead} pages in ${(audit.readMs / 1000).toFixed(1)} s.`,
    "",
  );
  lines.push("## Cost of one audit write", "");
  lines.push(
    `- \`createEntity\` against Azurite from the benchmark process, one at a time (${writeCost.direct.count} writes): p50 ${fmtMs(writeCost.direct.p50Ms)} ms, p99 ${fmtMs(writeCost.direct.p99Ms)} ms.`,
  );
  lines.push(
    `- One echo at a time through the host (${writeCost.hostWith.count} each): without a session p50 ${fmtMs(writeCost.hostWithout.p50Ms)} ms, with a session p50 ${fmtMs(writeCost.hostWith.p50Ms)} ms — the audit write adds ${fmtMs(writeCost.hostWith.p50Ms - writeCost.hostWithout.p50Ms)} ms per request when nothing else runs.`,
    "",
  );
  if (report.bundleImport) lines.push(...importLines(report.bundleImport));
  if (report.firstAnswers) lines.push(...firstAnswerLines(report.firstAnswers));
  lines.push("## Cold start of the local host", "");
  const stats = (values: readonly number[]) =>
    values.length === 0 ? "n/a" : `min ${Math.min(...values).toFixed(0)} ms, median ${median(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
  lines.push(`Spawn of \`node dist/src/host/start.js --local\` to the first 200 of \`GET /api/plugins\`, polled every ${coldStart.pollMs} ms.`, "");
  lines.push(
    `- With STORAGE_CONNECTION_STRING set to the running Azurite (${coldStart.withStorageMs.length} starts): ${stats(coldStart.withStorageMs)} (${coldStart.withStorageMs.map((v) => v.toFixed(0)).join(", ")} ms).`,
  );
  lines.push(
    `- Without storage configured (the host starts Azurite in its own process first; ${coldStart.withoutStorageMs.length} start): ${coldStart.withoutStorageMs.map((v) => `${v.toFixed(0)} ms`).join(", ")}.`,
    "",
  );
  lines.push("## What bounds each figure", "");
  lines.push(...boundsParagraph(report, m.cores));
  lines.push("");
  lines.push(...comparisonLines(report));
  lines.push(dataComment(benchData(report)), "");
  return lines.join("\n");
}

function boundsParagraph(report: Report, cores: number): string[] {
  const { rows, writeCost, coldStart } = report;
  const out: string[] = [];
  for (const row of rows) out.push(`- **${row.label}**: ${boundOf(row, cores)}.`);
  const d = rowById(rows, "session");
  const echo = rowById(rows, "echo");
  if (d && echo) {
    const added = writeCost.hostWith.p50Ms - writeCost.hostWithout.p50Ms;
    const inFlight = (32 * 1000) / d.result.requestsPerSecond;
    const latencyBound = (32 * 1000) / Math.max(writeCost.hostWith.p50Ms, 0.001);
    const cpuEcho = cpuPerRequestUs(echo.result);
    const cpuSession = cpuPerRequestUs(d.result);
    const cpuAdded = cpuEcho !== undefined && cpuSession !== undefined ? cpuSession - cpuEcho : undefined;
    out.push(
      `- **Row (d) against (a)**: ${pct(d.result.requestsPerSecond / echo.result.requestsPerSecond)} of its req/s. Latency is not the limit: one audit write takes ${fmtMs(writeCost.direct.p50Ms)} ms (p50, SDK straight to idle Azurite) and adds ${fmtMs(added)} ms to a lone request through the host, so 32 connections waiting on nothing but that could reach about ${fmtRps(latencyBound)} req/s (32 / ${fmtMs(writeCost.hostWith.p50Ms)} ms); under load a request was in flight ${fmtMs(inFlight)} ms. CPU is: the host's CPU per request rises from ${fmtUs(cpuEcho)} in (a) to ${fmtUs(cpuSession)} in (d), i.e. the audit write costs the host about ${fmtUs(cpuAdded)} of its own CPU (the Tables SDK request pipeline), with the host at ${share(d.result.cpu.processes.server)} of a core and Azurite at ${share(d.result.cpu.processes.azurite)}.`,
    );
  }
  if (coldStart.withStorageMs.length > 0 && coldStart.withoutStorageMs.length > 0) {
    out.push(
      `- **Cold start**: with storage configured it is process start, loading the bundle and building the services (median ${median(coldStart.withStorageMs).toFixed(0)} ms); without storage the in-process Azurite start adds about ${(median(coldStart.withoutStorageMs) - median(coldStart.withStorageMs)).toFixed(0)} ms.`,
    );
  }
  return out;
}
