import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AppError } from "../../../src/errors/app_error.js";
import { failureOf } from "../../support/failure_of.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import { BasePlugin, type AnyPlugin, type PluginContext } from "../../../src/plugins/plugin.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import { PluginRunner } from "../../../src/plugins/plugin_runner.js";
import { InProcessResultCache, type ResultCache } from "../../../src/cache/result_cache.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";

type Behaviour = (data: { n: number }, context: PluginContext) => Promise<unknown>;

class ScriptedPlugin extends BasePlugin<{ n: number }, unknown> {
  readonly description = "test plugin";
  readonly inputSchema = z.strictObject({ n: z.number() });
  initializeCalls = 0;
  shutdownCalls = 0;
  override initialize: () => Promise<void> = async () => {
    this.initializeCalls++;
  };
  override async shutdown(): Promise<void> {
    this.shutdownCalls++;
  }

  constructor(
    readonly name: string,
    private readonly behaviour: Behaviour,
    readonly timeoutMs?: number,
    readonly cacheTtlSeconds?: number,
  ) {
    super();
  }

  execute(data: { n: number }, context: PluginContext): Promise<unknown> {
    return this.behaviour(data, context);
  }
}

interface RunnerOptions {
  defaultTimeoutMs?: number;
  maxConcurrency?: number;
  maxQueue?: number;
  cache?: ResultCache;
  audit?: RecordingAuditLog;
}

function runnerWith(plugins: AnyPlugin[], options: RunnerOptions | number = {}): PluginRunner {
  const { defaultTimeoutMs = 1000, maxConcurrency = 16, maxQueue = 64, cache = new InProcessResultCache(), audit = new RecordingAuditLog() } =
    typeof options === "number" ? { defaultTimeoutMs: options } : options;
  const memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 });
  return new PluginRunner(
    { registry: new PluginRegistry(plugins, defaultTimeoutMs), memory, audit, cache, logger: silentLogger },
    { defaultTimeoutMs, maxConcurrency, maxQueue },
  );
}

describe("PluginRunner", () => {
  it("validates, runs and reports the canonical name, duration and run id", async () => {
    const plugin = new ScriptedPlugin("double", async ({ n }) => n * 2);
    const result = await runnerWith([plugin]).run({ plugin: "double", data: { n: 21 } });
    expect(result.plugin).toBe("double");
    expect(result.result).toBe(42);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.runId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers plugin_not_found, listing what exists", async () => {
    const error = await failureOf(runnerWith([new ScriptedPlugin("a", async () => 1)]).run({ plugin: "b", data: {} }));
    expect(error.code).toBe("plugin_not_found");
    expect(error.details).toMatchObject({ plugin: "b", available: ["a"] });
  });

  it("rejects input that does not match the plugin's schema before execute runs", async () => {
    const execute = vi.fn(async () => 1);
    const error = await failureOf(runnerWith([new ScriptedPlugin("a", execute)]).run({ plugin: "a", data: { n: "x" } }));
    expect(error.code).toBe("invalid_input");
    expect(error.details).toMatchObject({ plugin: "a", issues: [{ path: "n" }] });
    expect(execute).not.toHaveBeenCalled();
  });

  it("answers plugin_timeout at the plugin's timeout and fires the abort signal", async () => {
    let seen: AbortSignal | undefined;
    const hang = new ScriptedPlugin(
      "hang",
      (_data, context) => {
        seen = context.signal;
        return new Promise(() => {});
      },
      100,
    );
    const started = Date.now();
    const error = await failureOf(runnerWith([hang]).run({ plugin: "hang", data: { n: 1 } }));
    const elapsed = Date.now() - started;
    expect(error.code).toBe("plugin_timeout");
    expect(error.details).toMatchObject({ plugin: "hang", timeoutMs: 100 });
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1000);
    expect(seen?.aborted).toBe(true);
  });

  it("uses the configured default timeout for plugins without their own", async () => {
    const hang = new ScriptedPlugin("hang", () => new Promise(() => {}));
    const error = await failureOf(runnerWith([hang], 50).run({ plugin: "hang", data: { n: 1 } }));
    expect(error.details).toMatchObject({ timeoutMs: 50 });
  });

  it.each([
    ["throws an Error", async () => {
      throw new Error("secret path /etc/x on db.internal");
    }],
    ["rejects", () => Promise.reject(new TypeError("boom"))],
    ["throws a non-Error value", async () => {
      throw { weird: true };
    }],
    ["throws a string", async () => {
      throw "just a string";
    }],
  ] as const)("turns a plugin that %s into plugin_failed without leaking its message, and keeps serving", async (_label, behaviour) => {
    let calls = 0;
    const plugin = new ScriptedPlugin("flaky", async (data, context) => {
      calls++;
      if (calls === 1) return behaviour();
      return data.n;
    });
    const runner = runnerWith([plugin]);
    const error = await failureOf(runner.run({ plugin: "flaky", data: { n: 1 } }));
    expect(error.code).toBe("plugin_failed");
    expect(error.message).not.toMatch(/secret|db\.internal|boom/);
    expect(error.details).toMatchObject({ plugin: "flaky" });
    await expect(runner.run({ plugin: "flaky", data: { n: 7 } })).resolves.toMatchObject({ result: 7 });
  });

  it("passes through an invalid_input the plugin raises itself", async () => {
    const plugin = new ScriptedPlugin("strict", async () => {
      throw new AppError("invalid_input", "n must be even", { details: { position: 3 } });
    });
    const error = await failureOf(runnerWith([plugin]).run({ plugin: "strict", data: { n: 1 } }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe("n must be even");
  });

  it("does not let a plugin raise codes that belong to the platform", async () => {
    const plugin = new ScriptedPlugin("liar", async () => {
      throw new AppError("storage_unavailable", "not mine to say");
    });
    expect((await failureOf(runnerWith([plugin]).run({ plugin: "liar", data: { n: 1 } }))).code).toBe("plugin_failed");
  });

  it.each([
    ["undefined", async (): Promise<unknown> => undefined],
    ["a circular object", async (): Promise<unknown> => {
      const a: Record<string, unknown> = {};
      a.self = a;
      return a;
    }],
    ["a BigInt", async (): Promise<unknown> => 10n],
  ] as const)("reports a result that is %s as plugin_failed", async (_label, behaviour) => {
    const error = await failureOf(runnerWith([new ScriptedPlugin("bad", behaviour)]).run({ plugin: "bad", data: { n: 1 } }));
    expect(error.code).toBe("plugin_failed");
  });

  it("initialises a plugin once, before its first run, even under concurrent first calls", async () => {
    const order: string[] = [];
    const plugin = new ScriptedPlugin("lazy", async ({ n }) => {
      order.push(`execute ${n}`);
      return n;
    });
    plugin.initialize = async () => {
      plugin.initializeCalls++;
      order.push("initialize");
      await new Promise((r) => setTimeout(r, 20));
    };
    const runner = runnerWith([plugin]);
    expect(plugin.initializeCalls).toBe(0);
    await Promise.all([1, 2, 3, 4, 5].map((n) => runner.run({ plugin: "lazy", data: { n } })));
    await runner.run({ plugin: "lazy", data: { n: 6 } });
    expect(plugin.initializeCalls).toBe(1);
    expect(order[0]).toBe("initialize");
    expect(order).toHaveLength(7);
  });

  it("reports a failing initialize and retries it on a later call", async () => {
    const plugin = new ScriptedPlugin("fragile", async ({ n }) => n);
    plugin.initialize = async () => {
      plugin.initializeCalls++;
      if (plugin.initializeCalls === 1) throw new Error("not yet");
    };
    const runner = runnerWith([plugin]);
    const error = await failureOf(runner.run({ plugin: "fragile", data: { n: 1 } }));
    expect(error.code).toBe("plugin_failed");
    expect(error.message).toMatch(/could not be initialised/);
    await expect(runner.run({ plugin: "fragile", data: { n: 2 } })).resolves.toMatchObject({ result: 2 });
    expect(plugin.initializeCalls).toBe(2);
  });

  it("shuts down only the plugins that were initialised, once, bounded in time", async () => {
    const used = new ScriptedPlugin("used", async () => 1);
    const unused = new ScriptedPlugin("unused", async () => 1);
    const stuck = new ScriptedPlugin("stuck", async () => 1);
    stuck.shutdown = () => new Promise(() => {});
    const runner = runnerWith([used, unused, stuck]);
    await runner.run({ plugin: "used", data: { n: 1 } });
    await runner.run({ plugin: "stuck", data: { n: 1 } });
    const started = Date.now();
    await runner.shutdown(100);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(used.shutdownCalls).toBe(1);
    expect(unused.shutdownCalls).toBe(0);
    await runner.shutdown(100);
    expect(used.shutdownCalls).toBe(1);
  });

  it("gives a plugin run in a session a view of that session's memory, and none otherwise", async () => {
    const plugin = new ScriptedPlugin("remember", async ({ n }, context) => {
      if (!context.memory) return "no memory";
      await context.memory.append({ role: "note", content: `n=${n}` });
      return (await context.memory.recent()).map((m) => m.content);
    });
    const runner = runnerWith([plugin]);
    await expect(runner.run({ plugin: "remember", data: { n: 1 } })).resolves.toMatchObject({ result: "no memory" });
    await runner.run({ plugin: "remember", data: { n: 1 }, sessionId: "s1" });
    const second = await runner.run({ plugin: "remember", data: { n: 2 }, sessionId: "s1" });
    expect(second.result).toEqual(["n=1", "n=2"]);
    const other = await runner.run({ plugin: "remember", data: { n: 3 }, sessionId: "s2" });
    expect(other.result).toEqual(["n=3"]);
  });

  it("answers plugin_busy when a plugin's slots and queue are full, and serves again once they drain", async () => {
    const gates: (() => void)[] = [];
    const slow = new ScriptedPlugin("slow", ({ n }) => new Promise((resolve) => gates.push(() => resolve(n))));
    const other = new ScriptedPlugin("other", async ({ n }) => n);
    const runner = runnerWith([slow, other], { maxConcurrency: 2, maxQueue: 1 });
    const admitted = [1, 2, 3].map((n) => runner.run({ plugin: "slow", data: { n } }));
    const busy = await failureOf(runner.run({ plugin: "slow", data: { n: 4 } }));
    expect(busy.code).toBe("plugin_busy");
    expect(busy.details).toMatchObject({ plugin: "slow", maxConcurrency: 2, maxQueue: 1 });
    // One slow plugin does not hold up the others.
    await expect(runner.run({ plugin: "other", data: { n: 9 } })).resolves.toMatchObject({ result: 9 });
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    gates.splice(0).forEach((open) => open());
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    gates.splice(0).forEach((open) => open());
    expect((await Promise.all(admitted)).map((r) => r.result)).toEqual([1, 2, 3]);
    const again = runner.run({ plugin: "slow", data: { n: 5 } });
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    gates[0]!();
    await expect(again).resolves.toMatchObject({ result: 5 });
  });

  it("counts the wait for a slot against the timeout", async () => {
    const hang = new ScriptedPlugin("hang", () => new Promise(() => {}), 100);
    const runner = runnerWith([hang], { maxConcurrency: 1, maxQueue: 5 });
    const first = failureOf(runner.run({ plugin: "hang", data: { n: 1 } }));
    const queued = await failureOf(runner.run({ plugin: "hang", data: { n: 2 } }));
    expect(queued.code).toBe("plugin_timeout");
    expect((await first).code).toBe("plugin_timeout");
  });

  it("serves a plugin that declares a cache TTL from the cache for the same input, keyed regardless of key order", async () => {
    let executions = 0;
    class Pure extends BasePlugin<{ a: number; b: number }, number> {
      readonly name = "pure";
      readonly description = "d";
      readonly inputSchema = z.strictObject({ a: z.number(), b: z.number() });
      readonly cacheTtlSeconds = 60;
      async execute({ a, b }: { a: number; b: number }): Promise<number> {
        executions++;
        return a + b;
      }
    }
    const cache = new InProcessResultCache();
    const runner = runnerWith([new Pure()], { cache });
    const first = await runner.run({ plugin: "pure", data: { a: 1, b: 2 } });
    const second = await runner.run({ plugin: "pure", data: { b: 2, a: 1 } });
    const other = await runner.run({ plugin: "pure", data: { a: 2, b: 2 } });
    expect([first.cached, second.cached, other.cached]).toEqual([false, true, false]);
    expect([first.result, second.result, other.result]).toEqual([3, 3, 4]);
    expect(executions).toBe(2);
  });

  it("never caches plugins without a TTL, nor failed runs", async () => {
    let calls = 0;
    const plugin = new ScriptedPlugin("impure", async ({ n }) => {
      calls++;
      if (n < 0) throw new AppError("invalid_input", "negative");
      return calls;
    });
    const cached = new ScriptedPlugin("cached", async ({ n }) => {
      calls++;
      if (n < 0) throw new AppError("invalid_input", "negative");
      return n;
    }, undefined, 60);
    const runner = runnerWith([plugin, cached]);
    await runner.run({ plugin: "impure", data: { n: 1 } });
    expect((await runner.run({ plugin: "impure", data: { n: 1 } })).cached).toBe(false);
    await failureOf(runner.run({ plugin: "cached", data: { n: -1 } }));
    await failureOf(runner.run({ plugin: "cached", data: { n: -1 } }));
    expect(calls).toBe(4);
  });

  it("still runs the plugin when the cache cannot be reached", async () => {
    const broken: ResultCache = { get: () => Promise.reject(new Error("down")), set: () => Promise.reject(new Error("down")) };
    const plugin = new ScriptedPlugin("cached", async ({ n }) => n, undefined, 60);
    await expect(runnerWith([plugin], { cache: broken }).run({ plugin: "cached", data: { n: 3 } })).resolves.toMatchObject({ result: 3, cached: false });
  });

  it("lets a plugin clear its session's memory, and records the clearing in the audit log", async () => {
    const audit = new RecordingAuditLog();
    const plugin = new ScriptedPlugin("forget", async (_data, context) => {
      await context.memory!.append({ role: "note", content: "x" });
      await context.memory!.clear();
      return (await context.memory!.recent()).length;
    });
    const run = await runnerWith([plugin], { audit }).run({ plugin: "forget", data: { n: 1 }, sessionId: "s9" });
    expect(run.result).toBe(0);
    expect(audit.of("s9")).toMatchObject([{ type: "memory_cleared", runId: run.runId }]);
  });
});
