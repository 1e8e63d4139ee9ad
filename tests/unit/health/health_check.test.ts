import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/logging/logger.js";
import { HealthCheck, type StorageProbe } from "../../../src/health/health_check.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import type { ChatModel } from "../../../src/llm/chat_model.js";

/** Storage that answers, with nothing missing unless told. */
const storageWith = (missing: readonly string[] = []): StorageProbe => ({ missing: async () => missing });

describe("HealthCheck", () => {
  it("answers a probe that hangs as down at its deadline, and hands the model's ping a signal that aborts then", async () => {
    const memory = new InProcessSessionMemory({ maxMessages: 1, ttlSeconds: 1 });
    memory.ping = () => new Promise(() => {});
    let pingSignal: AbortSignal | undefined;
    const model = {
      provider: "ollama",
      model: "m",
      ping: (signal?: AbortSignal) => {
        pingSignal = signal;
        return new Promise<void>(() => {});
      },
    } as unknown as ChatModel;
    const lines: string[] = [];
    const health = new HealthCheck(
      "1.0.0",
      memory,
      storageWith(),
      model,
      createLogger("warn", (_level, line) => lines.push(line)),
    );
    const started = Date.now();
    const report = await health.check();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(report).toMatchObject({ status: "unhealthy", checks: { redis: { status: "down" }, storage: { status: "ok" }, llm: { status: "down" } } });
    expect(pingSignal?.aborted).toBe(true);
    expect(lines.filter((l) => l.includes("no answer within 3000 ms"))).toHaveLength(2);
  });

  it("answers from one probe until the report is a TTL old, counted from when the probe finished, down reports too", async () => {
    const memory = new InProcessSessionMemory({ maxMessages: 1, ttlSeconds: 1 });
    let pings = 0;
    let up = true;
    let now = 0;
    memory.ping = async () => {
      pings++;
      // Each probe takes 500 ms.
      now += 500;
      if (!up) throw new Error("down");
    };
    const health = new HealthCheck(
      "1.0.0",
      memory,
      storageWith(),
      undefined,
      createLogger("error", () => {}),
      1000,
      () => now,
    );
    expect((await health.check()).status).toBe("ok");
    up = false;
    now = 1499;
    expect((await health.check()).status).toBe("ok");
    expect(pings).toBe(1);
    now = 1500;
    expect((await health.check()).status).toBe("unhealthy");
    now = 2999;
    expect((await health.check()).status).toBe("unhealthy");
    expect(pings).toBe(2);
  });

  it("reports storage that lost something it writes as degraded (200), naming each; unreachable storage as down", async () => {
    const memory = new InProcessSessionMemory({ maxMessages: 1, ttlSeconds: 1 });
    const logger = createLogger("error", () => {});
    const lost = await new HealthCheck("1.0.0", memory, storageWith(["table pluginruns", "queue plugin-runs"]), undefined, logger).check();
    expect(lost).toMatchObject({
      status: "degraded",
      checks: { redis: { status: "ok" }, storage: { status: "degraded", missing: ["table pluginruns", "queue plugin-runs"] } },
    });
    const whole = await new HealthCheck("1.0.0", memory, storageWith(), undefined, logger).check();
    expect(whole).toMatchObject({ status: "ok", checks: { storage: { status: "ok" } } });
    expect(whole.checks.storage.missing).toBeUndefined();
    const unreachable: StorageProbe = { missing: () => Promise.reject(new Error("ECONNREFUSED")) };
    const down = await new HealthCheck("1.0.0", memory, unreachable, undefined, logger).check();
    expect(down).toMatchObject({ status: "unhealthy", checks: { storage: { status: "down" } } });
    expect(down.checks.storage.missing).toBeUndefined();
  });
});
