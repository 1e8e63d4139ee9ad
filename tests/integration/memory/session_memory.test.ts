import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { silentLogger } from "../../../src/logging/logger.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import type { MemoryMessage } from "../../../src/memory/memory_message.js";
import { localCaller } from "../../../src/auth/caller.js";
import { createRedisClient } from "../../../src/memory/redis_client.js";
import { RedisSessionMemory } from "../../../src/memory/redis_session_memory.js";
import type { SessionMemoryLimits } from "../../../src/memory/session_memory.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { sessionMemoryContract } from "./session_memory_contract.js";

const redisUrl = inject("redisUrl");

function uniquePrefix(): string {
  return `test:memory:${randomUUID()}:`;
}

sessionMemoryContract("RedisSessionMemory", async (limits) => {
  const memory = new RedisSessionMemory(createRedisClient(redisUrl, silentLogger), limits, uniquePrefix());
  return { memory, cleanup: () => memory.close() };
});

sessionMemoryContract("InProcessSessionMemory", async (limits) => {
  const memory = new InProcessSessionMemory(limits);
  return { memory, cleanup: () => memory.close() };
});

const hello: MemoryMessage = { role: "user", content: "hello", at: "2024-01-01T00:00:00.000Z" };
const reply: MemoryMessage = { role: "assistant", content: "hi", at: "2024-01-01T00:00:01.000Z", plugin: "echo" };

describe("RedisSessionMemory against the real server", () => {
  // A connection of the test's own, to look at what the memory wrote.
  let raw: Redis;

  beforeAll(async () => {
    raw = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await raw.ping();
  });

  afterAll(async () => {
    await raw.quit();
  });

  async function withMemory<T>(limits: SessionMemoryLimits, body: (memory: RedisSessionMemory, client: Redis, prefix: string) => Promise<T>): Promise<T> {
    const prefix = uniquePrefix();
    const client = createRedisClient(redisUrl, silentLogger);
    const memory = new RedisSessionMemory(client, limits, prefix);
    try {
      return await body(memory, client, prefix);
    } finally {
      await memory.close();
    }
  }

  it("stores the session as a JSON list at <prefix><principalKey>:<sessionId> with a time to live", async () => {
    await withMemory({ maxMessages: 10, ttlSeconds: 30 }, async (memory, _client, prefix) => {
      const id = sessionRef(localCaller, `s-${randomUUID()}`);
      const key = `${prefix}${localCaller.principalKey}:${id.sessionId}`;
      expect(await raw.exists(key)).toBe(0);
      await memory.append(id, hello, reply);
      expect(await raw.type(key)).toBe("list");
      const ttl = await raw.ttl(key);
      expect(ttl).toBeGreaterThanOrEqual(1);
      expect(ttl).toBeLessThanOrEqual(30);
      expect((await raw.lrange(key, 0, -1)).map((item) => JSON.parse(item) as unknown)).toStrictEqual([hello, reply]);
      // Nothing else was written under the prefix.
      expect(await raw.keys(`${prefix}*`)).toStrictEqual([key]);
      await memory.clear(id);
      expect(await raw.exists(key)).toBe(0);
    });
  });

  it("writes one MULTI/EXEC of RPUSH, LTRIM, EXPIRE per append and reads with one LRANGE", async () => {
    await withMemory({ maxMessages: 7, ttlSeconds: 40 }, async (memory, client, prefix) => {
      await client.ping();
      // The address the server knows the memory's connection by, to pick its commands out of MONITOR.
      const info = await client.client("INFO");
      const address = /\baddr=(\S+)/.exec(String(info))?.[1];
      expect(address).toMatch(/:\d+$/);

      // monitor() opens a connection of its own; the lazy base never connects.
      const base = new Redis(redisUrl, { lazyConnect: true });
      const monitor = await base.monitor();
      const seen: string[][] = [];
      monitor.on("monitor", (_time: string, args: string[], source: string) => {
        if (source === address) seen.push(args.map(String));
      });
      const marker = `marker-${randomUUID()}`;
      // Everything the memory's connection sent before `marker` has reached the monitor once the marker has.
      const commandsUntilMarker = async (): Promise<string[][]> => {
        await client.echo(marker);
        const deadline = Date.now() + 5000;
        while (!seen.some((args) => args[0] === "echo" && args[1] === marker)) {
          if (Date.now() > deadline) throw new Error("the monitor did not see the marker");
          await new Promise((r) => setTimeout(r, 10));
        }
        return seen.splice(0).slice(0, -1);
      };

      try {
        const id = sessionRef(localCaller, `s-${randomUUID()}`);
        const key = `${prefix}${localCaller.principalKey}:${id.sessionId}`;
        await commandsUntilMarker();

        await memory.append(id, hello, reply);
        expect(await commandsUntilMarker()).toStrictEqual([
          ["multi"],
          ["rpush", key, JSON.stringify(hello), JSON.stringify(reply)],
          ["ltrim", key, "-7", "-1"],
          ["expire", key, "40"],
          ["exec"],
        ]);

        expect(await memory.recent(id)).toStrictEqual([hello, reply]);
        expect(await commandsUntilMarker()).toStrictEqual([["lrange", key, "-7", "-1"]]);

        expect(await memory.recent(id, 1)).toStrictEqual([reply]);
        expect(await commandsUntilMarker()).toStrictEqual([["lrange", key, "-1", "-1"]]);

        // Nothing to read: no round trip at all.
        expect(await memory.recent(id, 0)).toStrictEqual([]);
        expect(await commandsUntilMarker()).toStrictEqual([]);
      } finally {
        monitor.disconnect();
        base.disconnect();
      }
    });
  });

  it("never lets another connection see the list above the cap during concurrent appends", async () => {
    await withMemory({ maxMessages: 10, ttlSeconds: 60 }, async (memory, _client, prefix) => {
      const id = sessionRef(localCaller, `s-${randomUUID()}`);
      const key = `${prefix}${localCaller.principalKey}:${id.sessionId}`;
      const lengths: number[] = [];
      let writing = true;
      const watcher = (async () => {
        while (writing) lengths.push(await raw.llen(key));
      })();
      const sent = Array.from({ length: 20 }, (_, n): MemoryMessage => ({ role: "user", content: `m${n}`, at: `t${n}` }));
      for (let round = 0; round < 5; round++) {
        await Promise.all(sent.map((m) => memory.append(id, { ...m, content: `${m.content}-r${round}` })));
      }
      writing = false;
      await watcher;
      expect(lengths.length).toBeGreaterThan(0);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(10);
      expect(await raw.llen(key)).toBe(10);
      const kept = await memory.recent(id);
      expect(new Set(kept.map((m) => m.content)).size).toBe(10);
      // One connection keeps the order in which the appends were issued.
      expect(kept.map((m) => m.content)).toStrictEqual(sent.slice(10).map((m) => `${m.content}-r4`));
    });
  });

  it("skips list values that are not JSON or not a message, and returns the valid ones", async () => {
    await withMemory({ maxMessages: 10, ttlSeconds: 60 }, async (memory, _client, prefix) => {
      const id = sessionRef(localCaller, `s-${randomUUID()}`);
      const key = `${prefix}${localCaller.principalKey}:${id.sessionId}`;
      await memory.append(id, hello);
      await raw.rpush(
        key,
        "not json {",
        JSON.stringify({ role: "robot", content: "x", at: "t" }),
        JSON.stringify({ role: "user", at: "t" }),
        JSON.stringify({ role: "user", content: 5, at: "t" }),
        JSON.stringify("a string"),
        "null",
        "42",
        "[]",
      );
      await memory.append(id, reply);
      expect(await raw.llen(key)).toBe(10);
      expect(await memory.recent(id)).toStrictEqual([hello, reply]);
      // The limit counts stored items, so the newest 3 hold only one valid message.
      expect(await memory.recent(id, 3)).toStrictEqual([reply]);
    });
  });

  describe("when nothing listens on the Redis port", () => {
    it("rejects append, recent and ping with memory_unavailable within 5 s, and raises nothing unhandled", async () => {
      const port = await freePort();
      const client = createRedisClient(`redis://127.0.0.1:${port}`, silentLogger);
      const memory = new RedisSessionMemory(client, { maxMessages: 5, ttlSeconds: 60 }, uniquePrefix());
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => void unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      process.on("uncaughtException", onUnhandled);
      try {
        const operations: [string, () => Promise<unknown>][] = [
          ["append", () => memory.append(sessionRef(localCaller, "s-dead"), hello)],
          ["recent", () => memory.recent(sessionRef(localCaller, "s-dead"))],
          ["ping", () => memory.ping()],
        ];
        for (const [name, operation] of operations) {
          const started = Date.now();
          const error = await failureOf(operation());
          expect(error.code, name).toBe("memory_unavailable");
          expect(Date.now() - started, name).toBeLessThan(5000);
        }
        // No rejection surfaces later either.
        await new Promise((r) => setTimeout(r, 200));
        expect(unhandled).toStrictEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
        process.off("uncaughtException", onUnhandled);
        await memory.close();
      }
    });
  });
});
