/**
 * What one audited turn costs the stores, counted at the stores themselves over the measured run
 * of a row: Table requests at the benchmark's Azurite (bench/servers/azurite_server.ts counts
 * them) and Redis commands at a redis-server the benchmark starts (`INFO commandstats`).
 * Divided by the 2xx responses of the row, i.e. per acknowledged turn.
 */
import type { Redis } from "ioredis";
import { spawnChild, type Child } from "./processes.js";
import { freePort } from "../tests/support/free_port.js";
import { connectWhenReady } from "../tests/support/redis_server.js";

export interface TableCounts {
  readonly batch: number;
  readonly otherWrites: number;
  readonly reads: number;
}

export interface RedisCounts {
  /** Calls per command name (lower case), from `INFO commandstats`. */
  readonly calls: Readonly<Record<string, number>>;
}

export interface TurnCost {
  /** 2xx responses of the measured run: the turns acknowledged. */
  readonly turns: number;
  /**
   * Turns the stores may have seen that are not in `turns`: requests in flight when the measured
   * run began (left over from the warm-up) or ended (autocannon closes its connections without
   * reading their answers) — at most one per connection at each edge.
   */
  readonly inFlightAtEdges: number;
  readonly table: TableCounts;
  /** Undefined when the row ran without Redis (then `redisNote` says why). */
  readonly redis?: RedisCounts;
  readonly redisNote?: string;
}

export async function readTableCounts(countsPort: number): Promise<TableCounts> {
  const response = await fetch(`http://127.0.0.1:${countsPort}/`);
  return (await response.json()) as TableCounts;
}

export function diffTable(after: TableCounts, before: TableCounts): TableCounts {
  return { batch: after.batch - before.batch, otherWrites: after.otherWrites - before.otherWrites, reads: after.reads - before.reads };
}

/** Commands the benchmark's own counting sends: not the app's. */
const ownCommands = new Set(["info"]);

export async function readRedisCounts(client: Redis): Promise<RedisCounts> {
  const text = await client.info("commandstats");
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!ownCommands.has(match[1]!)) calls[match[1]!] = Number(match[2]);
  }
  return { calls };
}

export function diffRedis(after: RedisCounts, before: RedisCounts): RedisCounts {
  const calls: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.calls)) {
    const delta = n - (before.calls[name] ?? 0);
    if (delta > 0) calls[name] = delta;
  }
  return { calls };
}

/**
 * Commands the app sends only inside its session-memory MULTI (src/memory/redis_session_memory.ts:
 * RPUSH + LTRIM + EXPIRE, then EXEC): ioredis sends such a transaction as one pipeline, so the
 * whole MULTI…EXEC is one round trip and these do not count again.
 */
const insideMulti = new Set(["rpush", "ltrim", "expire", "exec"]);

/** Round trips: one per MULTI…EXEC, plus every command sent on its own. */
export function redisRoundTrips(counts: RedisCounts): number {
  let trips = 0;
  for (const [name, n] of Object.entries(counts.calls)) if (!insideMulti.has(name)) trips += n;
  return trips;
}

/** A redis-server on a free loopback port, tracked like every other child of the benchmark (stopped on exit). */
export async function startRedis(): Promise<{ child: Child; url: string; client: Redis }> {
  const port = await freePort();
  const child = spawnChild("redis", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], process.env);
  const url = `redis://127.0.0.1:${port}`;
  const client = await connectWhenReady(
    url,
    () => child.process.exitCode !== null,
    () => new Error(`redis-server did not start on port ${port}\n${child.output()}`),
  );
  return { child, url, client };
}
