import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { pluginClasses } from "../../plugins/index.js";
import { localCaller } from "../../src/auth/caller.js";
import { loadConfig } from "../../src/config/config.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { silentLogger } from "../../src/logging/logger.js";
import { sessionRef } from "../../src/memory/session_ref.js";
import { createServices, type Services } from "../../src/services.js";
import { freeAzuritePorts, startAzurite, type AzuriteProcess } from "../support/azurite_process.js";
import type { AzuritePorts } from "../../src/azure/connection_string.js";
import { freePort } from "../support/free_port.js";
import { startRedisServer, type RedisServer } from "../support/redis_server.js";

/**
 * The local host in this process against a private redis-server and a private Azurite
 * (processes of their own on loopback ports), under a bounded load of chat `/run echo`
 * turns while each dependency is paused (SIGSTOP/SIGCONT) and killed and restarted. What a client
 * was told must agree with the audit log, the audit log must hold each turn whole with one
 * outcome, memory must never hold what the log lacks, and health must follow every outage.
 */

const clients = 8;
const sessions = Array.from({ length: 10 }, (_, i) => `fault-${process.pid}-${Date.now().toString(36)}-s${i}`);
/** Load before a fault strikes and after health says it is over: the fault lands mid-load, and recovery is exercised. */
const loadLeadMs = 600;
const loadTailMs = 1000;

let redisPort: number;
let azuritePorts: AzuritePorts;
let azuriteDir: string;
let redis: RedisServer | undefined;
let azurite: AzuriteProcess | undefined;
let services: Services | undefined;
let host: LocalHost | undefined;

interface Turn {
  readonly id: string;
  readonly phase: string;
  readonly client: number;
  /** Order of the turn among its client's turns: a client sends one turn at a time. */
  readonly seq: number;
  readonly sessionId: string;
  status?: number;
  body?: any;
  /** The request got no answer (a network error, or the client's own time limit). */
  error?: string;
}

const turns: Turn[] = [];
let nextTurn = 0;

beforeAll(async () => {
  [redisPort, azuritePorts] = [await freePort(), await freeAzuritePorts()];
  // A location, not --inMemoryPersistence: a restarted Azurite keeps the log, so acknowledged turns can be checked after it.
  azuriteDir = mkdtempSync(join(tmpdir(), "fault-azurite-"));
  [redis, azurite] = await Promise.all([startRedisServer(redisPort), startAzurite(azuritePorts, { location: azuriteDir })]);
  const config = loadConfig({
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    STORAGE_CONNECTION_STRING: azurite!.connectionString,
    // Room for every turn of the run, so that memory is never trimmed and the last phase's turns can all be found in it.
    SESSION_MEMORY_MAX_MESSAGES: "10000",
    LOG_LEVEL: "error",
  });
  services = createServices(config, { plugins: pluginClasses, storage: config.storage, logger: silentLogger });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
}, 30_000);

afterAll(async () => {
  // Whatever failed, no process is left paused or running.
  await host?.close({ graceMs: 1000 }).catch(() => undefined);
  await services?.close().catch(() => undefined);
  await Promise.all([redis?.stop(), azurite?.stop()]);
  rmSync(azuriteDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function chat(turn: Turn): Promise<void> {
  try {
    const response = await fetch(`${host!.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `/run echo ${turn.id}`, sessionId: turn.sessionId }),
      // Bounds a turn whatever the host does; a pause lasts a few seconds at most.
      signal: AbortSignal.timeout(20_000),
    });
    turn.status = response.status;
    turn.body = await response.json();
  } catch (error) {
    turn.error = String(error);
  }
}

/**
 * Runs `clients` clients, each sending its next turn as soon as its last is answered, to a
 * session picked in turn (so that clients share sessions), while `fault` runs and `loadTailMs`
 * after it.
 */
async function underLoad(phase: string, fault: () => Promise<void>): Promise<Turn[]> {
  let stop = false;
  const load = Array.from({ length: clients }, async (_, client) => {
    for (let seq = 0; !stop; seq++) {
      const n = nextTurn++;
      const turn: Turn = { id: `${phase}-${n}`, phase, client, seq, sessionId: sessions[n % sessions.length]! };
      turns.push(turn);
      await chat(turn);
    }
  });
  try {
    await sleep(loadLeadMs);
    await fault();
    await sleep(loadTailMs);
  } finally {
    stop = true;
    await Promise.all(load);
  }
  return turns.filter((turn) => turn.phase === phase);
}

/** Polls GET /api/health (as a platform probe would) until it answers `status`; fails after `ms`. */
async function healthBecomes(status: 200 | 503, ms: number): Promise<any> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const response = await fetch(`${host!.url}/api/health`, { signal: AbortSignal.timeout(ms) });
    last = await response.json();
    if (response.status === status) return last;
    if (Date.now() > deadline) throw new Error(`health did not answer ${status} within ${ms} ms: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

// The health probes' deadline is 3 s and a report lives 1 s: a paused dependency shows within about 4 s.
const outageSeenWithinMs = 6000;
const recoverySeenWithinMs = 10_000;

function summary(phaseTurns: Turn[]): string {
  const count = (pick: (turn: Turn) => boolean) => phaseTurns.filter(pick).length;
  return `${phaseTurns.length} turns: ${count((t) => t.status === 200)} answered 200, ${count((t) => (t.status ?? 0) >= 500)} 5xx, ${count((t) => t.error !== undefined)} unanswered`;
}

function expectLoadServed(phaseTurns: Turn[]): void {
  // A phase that acknowledged too little would prove nothing about acknowledged turns.
  expect(phaseTurns.filter((turn) => turn.status === 200).length, summary(phaseTurns)).toBeGreaterThan(20);
  // A status other than 200 is a failure the server admits to (5xx), never a refusal of the request itself.
  for (const turn of phaseTurns.filter((t) => t.status !== undefined && t.status !== 200)) {
    expect(turn.status, JSON.stringify(turn)).toBeGreaterThanOrEqual(500);
  }
}

/**
 * One outage under load: `fault` takes the dependency away, health must answer 503 naming it,
 * `recover` brings it back (even when health failed to notice, so that the later phases and the
 * final check still run against it), and health must answer 200 again.
 */
async function outagePhase(name: string, dependency: "redis" | "storage", fault: () => unknown, recover: () => unknown): Promise<void> {
  const phase = await underLoad(name, async () => {
    await fault();
    try {
      const report = await healthBecomes(503, outageSeenWithinMs);
      expect(report.checks[dependency].status).toBe("down");
    } finally {
      await recover();
    }
    await healthBecomes(200, recoverySeenWithinMs);
  });
  expectLoadServed(phase);
}

describe("chat turns under dependency faults (private redis-server and Azurite)", () => {
  it("serves a load with every dependency up, health 200", async () => {
    await healthBecomes(200, recoverySeenWithinMs);
    const phase = await underLoad("steady", async () => {});
    expectLoadServed(phase);
    expect(
      phase.every((turn) => turn.status === 200),
      summary(phase),
    ).toBe(true);
  }, 30_000);

  it("Redis paused: health 503 naming redis, 200 again after SIGCONT", async () => {
    await outagePhase(
      "redis-paused",
      "redis",
      () => process.kill(redis!.pid, "SIGSTOP"),
      () => process.kill(redis!.pid, "SIGCONT"),
    );
  }, 40_000);

  it("Redis killed and restarted on its port: health 503 naming redis, 200 again once it is back", async () => {
    await outagePhase(
      "redis-killed",
      "redis",
      () => {
        process.kill(redis!.pid, "SIGKILL");
        redis = undefined;
      },
      async () => {
        redis = await startRedisServer(redisPort);
      },
    );
  }, 40_000);

  it("Azurite paused: health 503 naming storage, 200 again after SIGCONT", async () => {
    await outagePhase(
      "azurite-paused",
      "storage",
      () => process.kill(azurite!.pid, "SIGSTOP"),
      () => process.kill(azurite!.pid, "SIGCONT"),
    );
  }, 40_000);

  it("Azurite stopped and restarted on its port with its data: health 503 naming storage, 200 again once it is back", async () => {
    await outagePhase(
      "azurite-stopped",
      "storage",
      // SIGINT, Azurite's own stop signal: it saves its store only every 5 s otherwise (SIGTERM and
      // SIGKILL lose writes it had acknowledged: the emulator's loss, not the app's, and no test of the app).
      async () => {
        await azurite!.stop("SIGINT");
        azurite = undefined;
      },
      async () => {
        azurite = await startAzurite(azuritePorts, { location: azuriteDir });
      },
    );
  }, 40_000);

  it("serves a load again with every dependency back", async () => {
    const phase = await underLoad("after", async () => {});
    expectLoadServed(phase);
    expect(
      phase.every((turn) => turn.status === 200),
      summary(phase),
    ).toBe(true);
  }, 30_000);

  it("agrees with the audit log and memory: every acknowledged turn whole, in order, with one outcome; nothing in memory the log lacks", async () => {
    const byId = new Map(turns.map((turn) => [turn.id, turn]));
    const idOf = (content: unknown) => /^\/run echo (\S+)$/.exec(String(content))?.[1];
    const seen = new Set<string>();
    for (const sessionId of sessions) {
      const entries = await auditOf(sessionId);
      // A turn is its user_message and the entries up to the next one: one transaction keeps them together.
      const groups: any[][] = [];
      for (const entry of entries) {
        if (entry.type === "user_message") groups.push([entry]);
        else {
          expect(groups.length, `an entry before any user message: ${JSON.stringify(entry)}`).toBeGreaterThan(0);
          groups.at(-1)!.push(entry);
        }
      }
      const logOrder: string[] = [];
      for (const group of groups) {
        const id = idOf(group[0].content);
        const turn = id === undefined ? undefined : byId.get(id);
        expect(turn, `a turn no client sent: ${JSON.stringify(group)}`).toBeDefined();
        expect(turn!.sessionId).toBe(sessionId);
        expect(seen.has(id!), `turn ${id} is in the log twice`).toBe(false);
        seen.add(id!);
        logOrder.push(id!);
        // Exactly one outcome: one reply, never two (success and a failure), never none.
        const replies = group.filter((entry) => entry.type === "reply");
        expect(replies.length, `turn ${id} has ${replies.length} outcomes: ${JSON.stringify(group)}`).toBe(1);
        const [reply] = replies;
        if (turn!.status === 200) {
          // Acknowledged: whole, in the order it happened, and the run the client was told of.
          expect(
            group.map((entry) => entry.type),
            JSON.stringify(group),
          ).toEqual(["user_message", "plugin_run", "reply"]);
          expect(group[1]).toMatchObject({ plugin: "echo", outcome: "success", runId: turn!.body.runId });
          expect(reply).toMatchObject({ outcome: "success", content: id });
        } else if (turn!.status !== undefined) {
          // Refused: the log says the same failure the client was told, never a success.
          expect(reply.outcome, `turn ${id} answered ${turn!.status} ${JSON.stringify(turn!.body)} but logged ${JSON.stringify(group)}`).toBe(
            turn!.body?.error?.code,
          );
        }
        // Unanswered turns (the client gave up) may be in the log either way, but with one outcome (above).
      }
      // Each client's acknowledged turns in this session are in the log in the order the client sent them.
      for (let client = 0; client < clients; client++) {
        const sent = turns.filter((t) => t.client === client && t.sessionId === sessionId && t.status === 200).map((t) => t.id);
        expect(logOrder.filter((id) => sent.includes(id))).toEqual(sent);
      }

      // Memory is a cache after the log: what it holds of a turn the log must have (kills of Redis lose memory, never add to it).
      const memory = await services!.memory.recent(sessionRef(localCaller, sessionId));
      const inLog = new Set(logOrder);
      for (const message of memory.filter((m) => m.role === "user")) {
        const id = idOf(message.content);
        expect(id !== undefined && inLog.has(id), `memory holds a turn the log lacks: ${JSON.stringify(message)}`).toBe(true);
        expect(byId.get(id!)!.status === undefined || byId.get(id!)!.status === 200, `memory holds refused turn ${id}`).toBe(true);
      }
      // With every dependency up (after the last fault; Redis keeps nothing across its kill), an
      // acknowledged turn reaches memory too, the user's message and the reply together.
      const remembered = memory.map((m) => `${m.role}:${m.content}`);
      for (const turn of turns.filter((t) => t.sessionId === sessionId && t.phase === "after")) {
        expect(remembered, `turn ${turn.id} missing from memory`).toEqual(expect.arrayContaining([`user:/run echo ${turn.id}`, `assistant:${turn.id}`]));
      }
    }
    // Every acknowledged turn was found (in its own session's log).
    const missing = turns.filter((turn) => turn.status === 200 && !seen.has(turn.id));
    expect(missing.map((turn) => turn.id)).toEqual([]);
    const phases = [...new Set(turns.map((turn) => turn.phase))];
    console.log(phases.map((phase) => `${phase}: ${summary(turns.filter((t) => t.phase === phase))}`).join("\n"));
  }, 30_000);
});

/** Every entry of a session's audit log, oldest first, read page by page as a client would. */
async function auditOf(sessionId: string): Promise<any[]> {
  const entries: any[] = [];
  let cursor: string | null = null;
  // Bounded: far more pages than the run can write.
  for (let page = 0; page < 1000; page++) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const response = await fetch(`${host!.url}/api/memory/audit/${sessionId}?limit=200${query}`);
    expect(response.status).toBe(200);
    const body: any = await response.json();
    entries.push(...body.entries);
    cursor = body.nextCursor;
    if (!cursor) return entries;
  }
  throw new Error("the audit log did not end");
}
