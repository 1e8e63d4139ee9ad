import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/logging/logger.js";
import { HealthCheck } from "../../../src/health/health_check.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import type { ChatModel } from "../../../src/llm/chat_model.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";

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
    const health = new HealthCheck("1.0.0", memory, new RecordingAuditLog(), model, createLogger("warn", (_level, line) => lines.push(line)));
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
    const health = new HealthCheck("1.0.0", memory, new RecordingAuditLog(), undefined, createLogger("error", () => {}), 1000, () => now);
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
});
