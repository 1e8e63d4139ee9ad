/**
 * The figures of the previous run, read from the bench/results.md that this run is about to
 * overwrite (the committed one), so that every row can be compared with them. Results written
 * since issue 13 carry their figures as JSON in an HTML comment; older ones are read from their
 * Load table and Cold start lines.
 */

interface PreviousRow {
  readonly requestsPerSecond: number;
  readonly p99Ms: number | undefined;
  /** The server's CPU time per answered request, in µs: less sensitive than req/s to what else the machine ran. */
  readonly serverCpuUs?: number | undefined;
}

/** Ratios to the minimal Functions app of the same run. */
interface PreviousImport {
  readonly wall: number;
  readonly cpu: number;
  readonly rss: number;
}

export interface PreviousResults {
  /** When that run was made, as its file says. */
  readonly date: string | undefined;
  /** The commit whose code that run measured, where its file says (files written before it did, do not). */
  readonly code: string | undefined;
  /** Load rows by label (e.g. "(a) execute echo"). */
  readonly rows: ReadonlyMap<string, PreviousRow>;
  /** Median spawn → first 200 of the local host with storage configured. */
  readonly hostFirstAnswerMs: number | undefined;
  /** Import of the Functions bundle against the minimal app, by variant ("plain", "telemetry"). */
  readonly imports: ReadonlyMap<string, PreviousImport>;
}

/** The JSON a results file carries for the next run. */
export interface BenchData {
  readonly date: string;
  readonly code?: string;
  readonly rows: Record<string, PreviousRow>;
  readonly hostFirstAnswerMs?: number;
  readonly imports?: Record<string, PreviousImport>;
}

const dataMarker = "bench-data:";

/** The HTML comment that carries `data` in results.md (invisible when rendered). */
export function dataComment(data: BenchData): string {
  return `<!-- ${dataMarker} ${JSON.stringify(data)} -->`;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.replace(/,/g, "").trim());
  return Number.isFinite(value) ? value : undefined;
}

/** Reads a results.md; undefined when there is none or it has no figures this code can read. */
export function readPreviousResults(text: string | undefined): PreviousResults | undefined {
  if (!text) return undefined;
  const comment = new RegExp(`<!-- ${dataMarker} (\\{.*\\}) -->`).exec(text);
  if (comment) {
    try {
      const data = JSON.parse(comment[1]!) as BenchData;
      return {
        date: data.date,
        code: data.code,
        rows: new Map(Object.entries(data.rows)),
        hostFirstAnswerMs: data.hostFirstAnswerMs,
        imports: new Map(Object.entries(data.imports ?? {})),
      };
    } catch {
      // fall back to the tables
    }
  }
  const date = /on (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(text)?.[1];
  const code = /measuring the code at commit `([^`]+)`/.exec(text)?.[1];
  const rows = new Map<string, PreviousRow>();
  const load = text.split("\n## Load")[1]?.split("\n## ")[0] ?? "";
  for (const line of load.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    // | row | request | req/s | p50 ms | p99 ms | ...
    if (cells.length < 7 || cells[1] === "row" || cells[1]!.startsWith("---")) continue;
    const rps = number(cells[3]);
    if (rps === undefined) continue;
    rows.set(cells[1]!, { requestsPerSecond: rps, p99Ms: number(cells[5]) });
  }
  // "- **(a) execute echo**: … = 421 µs of server CPU per request"
  for (const match of text.matchAll(/^- \*\*(.+?)\*\*: .*?= (\d+) µs of server CPU per request/gm)) {
    const row = rows.get(match[1]!);
    if (row) rows.set(match[1]!, { ...row, serverCpuUs: Number(match[2]) });
  }
  const hostFirstAnswerMs = number(/With STORAGE_CONNECTION_STRING set[^:]*: min \d+ ms, median (\d+) ms/.exec(text)?.[1]);
  if (rows.size === 0 && hostFirstAnswerMs === undefined) return undefined;
  return { date, code, rows, hostFirstAnswerMs, imports: new Map() };
}
