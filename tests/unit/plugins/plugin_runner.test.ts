import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { PluginPolicy } from "../../../src/auth/plugin_policy.js";
import type { AuthConfig, PluginPolicyConfig } from "../../../src/config/config.js";
import { AppError } from "../../../src/errors/app_error.js";
import { failureOf } from "../../support/failure_of.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import { BasePlugin, type AnyPlugin, type PluginContext } from "../../../src/plugins/plugin.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import { maxRunNesting, PluginRunner, type RunRequest, type RunResult } from "../../../src/plugins/plugin_runner.js";
import { isAwaitingApproval, type ApprovalRequests, type AwaitingApproval } from "../../../src/approvals/approval_request.js";
import { RecordingApprovals } from "../../support/recording_approvals.js";
import { InProcessResultCache, type ResultCache } from "../../../src/cache/result_cache.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";
import { testAnnotations } from "../../support/plugin_context.js";

type Behaviour = (data: { n: number }, context: PluginContext) => Promise<unknown>;

class ScriptedPlugin extends BasePlugin<{ n: number }, unknown> {
  readonly title = "Test plugin";
  readonly description = "test plugin";
  readonly annotations = testAnnotations;
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
  maxConcurrencyPerPrincipal?: number;
  maxQueue?: number;
  cache?: ResultCache;
  audit?: RecordingAuditLog;
  memory?: InProcessSessionMemory;
  /** PLUGIN_POLICY; none by default. */
  policy?: PluginPolicyConfig;
  /** AUTH_MODE; none by default, as in the tests' configuration. */
  authMode?: AuthConfig["mode"];
  approvals?: ApprovalRequests;
}

/** A runner whose runs are expected to run: one held for an approver fails the test. */
class RunningRunner extends PluginRunner {
  override async execute(request: RunRequest): Promise<RunResult> {
    return ran(await super.execute(request));
  }
}

function ran<T extends object>(outcome: T | AwaitingApproval): T {
  if (isAwaitingApproval(outcome)) throw new Error(`run ${outcome.runId} was held for approval`);
  return outcome;
}

function runnerWith(plugins: AnyPlugin[], options: RunnerOptions | number = {}): RunningRunner {
  return buildRunner(RunningRunner, plugins, options);
}

function buildRunner<R extends PluginRunner>(
  Runner: new (...args: ConstructorParameters<typeof PluginRunner>) => R,
  plugins: AnyPlugin[],
  options: RunnerOptions | number = {},
): R {
  const {
    defaultTimeoutMs = 1000,
    maxConcurrency = 16,
    maxConcurrencyPerPrincipal,
    maxQueue = 64,
    cache = new InProcessResultCache(),
    audit = new RecordingAuditLog(),
    memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 }),
    policy,
    authMode = "none",
    approvals = new RecordingApprovals(),
  } = typeof options === "number" ? { defaultTimeoutMs: options } : options;
  return new Runner(
    {
      registry: new PluginRegistry(plugins, defaultTimeoutMs),
      policy: PluginPolicy.create(plugins, policy, authMode),
      memory,
      audit,
      cache,
      logger: silentLogger,
      approvals,
    },
    { defaultTimeoutMs, maxConcurrency, maxConcurrencyPerPrincipal, maxQueue },
  );
}

/** A run by the local caller (AUTH_MODE=none) through POST /api/plugins/execute. */
const local = { caller: localCaller, channel: "execute" } as const;

describe("PluginRunner", () => {
  it("validates, runs and reports the canonical name, duration and run id", async () => {
    const plugin = new ScriptedPlugin("double", async ({ n }) => n * 2);
    const result = await runnerWith([plugin]).execute({ ...local, plugin: "double", data: { n: 21 } });
    expect(result.plugin).toBe("double");
    expect(result.result).toBe(42);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.runId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers plugin_not_found, listing only the plugins this caller may run on this channel (the operator: all)", async () => {
    const plugins = ["open", "admins", "chat_only"].map((name) => new ScriptedPlugin(name, async () => 1));
    const policy = { admins: { roles: ["admin"] }, chat_only: { channels: ["chat" as const] } };
    const runner = runnerWith(plugins, { policy, authMode: "jwt" });
    const availableTo = async (caller: ReturnType<typeof createCaller>, channel: "execute" | "chat" | "operator") => {
      const error = await failureOf(runner.execute({ caller, channel, plugin: "missing", data: {} }));
      expect(error).toMatchObject({ code: "plugin_not_found", details: { plugin: "missing" } });
      return (error.details as { available: string[] }).available;
    };
    const alice = createCaller("user", "alice");
    const admin = createCaller("user", "root", ["admin"]);
    expect(await availableTo(alice, "execute")).toEqual(["open"]);
    expect(await availableTo(alice, "chat")).toEqual(["open", "chat_only"]);
    expect(await availableTo(admin, "execute")).toEqual(["open", "admins"]);
    expect(await availableTo(alice, "operator")).toEqual(["open", "admins", "chat_only"]);
    expect(() => runner.resolve("missing", alice, "execute")).toThrow(expect.objectContaining({ details: { plugin: "missing", available: ["open"] } }));
  });

  it("rejects input that does not match the plugin's schema before execute runs", async () => {
    const execute = vi.fn(async () => 1);
    const error = await failureOf(runnerWith([new ScriptedPlugin("a", execute)]).execute({ ...local, plugin: "a", data: { n: "x" } }));
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
    const error = await failureOf(runnerWith([hang]).execute({ ...local, plugin: "hang", data: { n: 1 } }));
    const elapsed = Date.now() - started;
    expect(error.code).toBe("plugin_timeout");
    expect(error.details).toMatchObject({ plugin: "hang", timeoutMs: 100 });
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1000);
    expect(seen?.aborted).toBe(true);
  });

  it("uses the configured default timeout for plugins without their own", async () => {
    const hang = new ScriptedPlugin("hang", () => new Promise(() => {}));
    const error = await failureOf(runnerWith([hang], 50).execute({ ...local, plugin: "hang", data: { n: 1 } }));
    expect(error.details).toMatchObject({ timeoutMs: 50 });
  });

  it.each([
    [
      "throws an Error",
      async () => {
        throw new Error("secret path /etc/x on db.internal");
      },
    ],
    ["rejects", () => Promise.reject(new TypeError("boom"))],
    [
      "throws a non-Error value",
      async () => {
        throw { weird: true };
      },
    ],
    [
      "throws a string",
      async () => {
        throw "just a string";
      },
    ],
  ] as const)("turns a plugin that %s into plugin_failed without leaking its message, and keeps serving", async (_label, behaviour) => {
    let calls = 0;
    const plugin = new ScriptedPlugin("flaky", async (data, _context) => {
      calls++;
      if (calls === 1) return behaviour();
      return data.n;
    });
    const runner = runnerWith([plugin]);
    const error = await failureOf(runner.execute({ ...local, plugin: "flaky", data: { n: 1 } }));
    expect(error.code).toBe("plugin_failed");
    expect(error.message).not.toMatch(/secret|db\.internal|boom/);
    expect(error.details).toMatchObject({ plugin: "flaky" });
    await expect(runner.execute({ ...local, plugin: "flaky", data: { n: 7 } })).resolves.toMatchObject({ result: 7 });
  });

  it("passes through an invalid_input the plugin raises itself", async () => {
    const plugin = new ScriptedPlugin("strict", async () => {
      throw new AppError("invalid_input", "n must be even", { details: { position: 3 } });
    });
    const error = await failureOf(runnerWith([plugin]).execute({ ...local, plugin: "strict", data: { n: 1 } }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe("n must be even");
  });

  it("does not let a plugin raise codes that belong to the platform", async () => {
    const plugin = new ScriptedPlugin("liar", async () => {
      throw new AppError("storage_unavailable", "not mine to say");
    });
    expect((await failureOf(runnerWith([plugin]).execute({ ...local, plugin: "liar", data: { n: 1 } }))).code).toBe("plugin_failed");
  });

  it.each([
    ["undefined", async (): Promise<unknown> => undefined],
    [
      "a circular object",
      async (): Promise<unknown> => {
        const a: Record<string, unknown> = {};
        a.self = a;
        return a;
      },
    ],
    ["a BigInt", async (): Promise<unknown> => 10n],
  ] as const)("reports a result that is %s as plugin_failed", async (_label, behaviour) => {
    const error = await failureOf(runnerWith([new ScriptedPlugin("bad", behaviour)]).execute({ ...local, plugin: "bad", data: { n: 1 } }));
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
    await Promise.all([1, 2, 3, 4, 5].map((n) => runner.execute({ ...local, plugin: "lazy", data: { n } })));
    await runner.execute({ ...local, plugin: "lazy", data: { n: 6 } });
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
    const error = await failureOf(runner.execute({ ...local, plugin: "fragile", data: { n: 1 } }));
    expect(error.code).toBe("plugin_failed");
    expect(error.message).toMatch(/could not be initialised/);
    await expect(runner.execute({ ...local, plugin: "fragile", data: { n: 2 } })).resolves.toMatchObject({ result: 2 });
    expect(plugin.initializeCalls).toBe(2);
  });

  it("shuts down only the plugins that were initialised, once, bounded in time", async () => {
    const used = new ScriptedPlugin("used", async () => 1);
    const unused = new ScriptedPlugin("unused", async () => 1);
    const stuck = new ScriptedPlugin("stuck", async () => 1);
    stuck.shutdown = () => new Promise(() => {});
    const runner = runnerWith([used, unused, stuck]);
    await runner.execute({ ...local, plugin: "used", data: { n: 1 } });
    await runner.execute({ ...local, plugin: "stuck", data: { n: 1 } });
    const started = Date.now();
    await runner.shutdown(100);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(used.shutdownCalls).toBe(1);
    expect(unused.shutdownCalls).toBe(0);
    await runner.shutdown(100);
    expect(used.shutdownCalls).toBe(1);
  });

  it("gives a plugin run in a session a view of that session's memory, and none otherwise", async () => {
    const memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 });
    // What it saw, then what it remembered: written with its turn, once the run is over.
    const plugin = new ScriptedPlugin("remember", async ({ n }, context) => {
      if (!context.memory) return "no memory";
      const seen = (await context.memory.recent()).map((m) => m.content);
      await context.memory.append({ role: "note", content: `n=${n}` });
      return seen;
    });
    const runner = runnerWith([plugin], { memory });
    await expect(runner.execute({ ...local, plugin: "remember", data: { n: 1 } })).resolves.toMatchObject({ result: "no memory" });
    await runner.execute({ ...local, plugin: "remember", data: { n: 1 }, sessionId: "s1" });
    const second = await runner.execute({ ...local, plugin: "remember", data: { n: 2 }, sessionId: "s1" });
    expect(second.result).toEqual(["n=1"]);
    expect((await memory.recent(sessionRef(localCaller, "s1"))).map((m) => m.content)).toEqual(["n=1", "n=2"]);
    const other = await runner.execute({ ...local, plugin: "remember", data: { n: 3 }, sessionId: "s2" });
    expect(other.result).toEqual([]);
  });

  it("answers plugin_busy when a plugin's slots and queue are full, and serves again once they drain", async () => {
    const gates: (() => void)[] = [];
    const slow = new ScriptedPlugin("slow", ({ n }) => new Promise((resolve) => gates.push(() => resolve(n))));
    const other = new ScriptedPlugin("other", async ({ n }) => n);
    const runner = runnerWith([slow, other], { maxConcurrency: 2, maxQueue: 1 });
    const admitted = [1, 2, 3].map((n) => runner.execute({ ...local, plugin: "slow", data: { n } }));
    const busy = await failureOf(runner.execute({ ...local, plugin: "slow", data: { n: 4 } }));
    expect(busy.code).toBe("plugin_busy");
    expect(busy.details).toMatchObject({ plugin: "slow", maxConcurrency: 2, maxQueue: 1 });
    // One slow plugin does not hold up the others.
    await expect(runner.execute({ ...local, plugin: "other", data: { n: 9 } })).resolves.toMatchObject({ result: 9 });
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    for (const open of gates.splice(0)) open();
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    for (const open of gates.splice(0)) open();
    expect((await Promise.all(admitted)).map((r) => r.result)).toEqual([1, 2, 3]);
    const again = runner.execute({ ...local, plugin: "slow", data: { n: 5 } });
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    gates[0]!();
    await expect(again).resolves.toMatchObject({ result: 5 });
  });

  it("gives each principal a share of a plugin's slots: one's runs past it wait, another's start, and plugin_busy names the share", async () => {
    const gates: (() => void)[] = [];
    const slow = new ScriptedPlugin("slow", ({ n }) => new Promise((resolve) => gates.push(() => resolve(n))));
    const runner = runnerWith([slow], { maxConcurrency: 2, maxConcurrencyPerPrincipal: 1, maxQueue: 1, authMode: "jwt" });
    const alice = { caller: createCaller("user", "alice"), channel: "execute" } as const;
    const bob = { caller: createCaller("user", "bob"), channel: "execute" } as const;
    const alices = [1, 2].map((n) => runner.execute({ ...alice, plugin: "slow", data: { n } }));
    const busy = await failureOf(runner.execute({ ...alice, plugin: "slow", data: { n: 3 } }));
    expect(busy).toMatchObject({ code: "plugin_busy", details: { plugin: "slow", maxConcurrency: 2, maxConcurrencyPerPrincipal: 1, maxQueue: 1 } });
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    const bobs = runner.execute({ ...bob, plugin: "slow", data: { n: 10 } });
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    for (const open of gates.splice(0)) open();
    await expect(bobs).resolves.toMatchObject({ result: 10 });
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    for (const open of gates.splice(0)) open();
    expect((await Promise.all(alices)).map((r) => r.result)).toEqual([1, 2]);
  });

  it("counts the wait for a slot against the timeout", async () => {
    const hang = new ScriptedPlugin("hang", () => new Promise(() => {}), 100);
    const runner = runnerWith([hang], { maxConcurrency: 1, maxQueue: 5 });
    const first = failureOf(runner.execute({ ...local, plugin: "hang", data: { n: 1 } }));
    const queued = await failureOf(runner.execute({ ...local, plugin: "hang", data: { n: 2 } }));
    expect(queued.code).toBe("plugin_timeout");
    expect((await first).code).toBe("plugin_timeout");
  });

  it("serves a plugin that declares a cache TTL from the cache for the same input, keyed regardless of key order", async () => {
    let executions = 0;
    class Pure extends BasePlugin<{ a: number; b: number }, number> {
      readonly name = "pure";
      readonly title = "Test plugin";
      readonly description = "d";
      readonly annotations = testAnnotations;
      readonly inputSchema = z.strictObject({ a: z.number(), b: z.number() });
      readonly cacheTtlSeconds = 60;
      async execute({ a, b }: { a: number; b: number }): Promise<number> {
        executions++;
        return a + b;
      }
    }
    const cache = new InProcessResultCache();
    const runner = runnerWith([new Pure()], { cache });
    const first = await runner.execute({ ...local, plugin: "pure", data: { a: 1, b: 2 } });
    const second = await runner.execute({ ...local, plugin: "pure", data: { b: 2, a: 1 } });
    const other = await runner.execute({ ...local, plugin: "pure", data: { a: 2, b: 2 } });
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
    const cached = new ScriptedPlugin(
      "cached",
      async ({ n }) => {
        calls++;
        if (n < 0) throw new AppError("invalid_input", "negative");
        return n;
      },
      undefined,
      60,
    );
    const runner = runnerWith([plugin, cached]);
    await runner.execute({ ...local, plugin: "impure", data: { n: 1 } });
    expect((await runner.execute({ ...local, plugin: "impure", data: { n: 1 } })).cached).toBe(false);
    await failureOf(runner.execute({ ...local, plugin: "cached", data: { n: -1 } }));
    await failureOf(runner.execute({ ...local, plugin: "cached", data: { n: -1 } }));
    expect(calls).toBe(4);
  });

  it("still runs the plugin when the cache cannot be reached", async () => {
    const broken: ResultCache = { get: () => Promise.reject(new Error("down")), set: () => Promise.reject(new Error("down")) };
    const plugin = new ScriptedPlugin("cached", async ({ n }) => n, undefined, 60);
    await expect(runnerWith([plugin], { cache: broken }).execute({ ...local, plugin: "cached", data: { n: 3 } })).resolves.toMatchObject({
      result: 3,
      cached: false,
    });
  });

  it("lets a plugin clear its session's memory, and records the clearing in the audit log", async () => {
    const audit = new RecordingAuditLog();
    const plugin = new ScriptedPlugin("forget", async (_data, context) => {
      await context.memory!.append({ role: "note", content: "x" });
      await context.memory!.clear();
      return (await context.memory!.recent()).length;
    });
    const run = await runnerWith([plugin], { audit }).execute({ ...local, plugin: "forget", data: { n: 1 }, sessionId: "s9" });
    expect(run.result).toBe(0);
    expect(audit.of(sessionRef(localCaller, "s9"))).toMatchObject([
      { type: "memory_cleared", runId: run.runId },
      { type: "plugin_run", runId: run.runId },
    ]);
  });

  it("records an execute with a session as one turn: what the plugin did, then the run, in one transaction", async () => {
    const audit = new RecordingAuditLog();
    const memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 });
    const plugin = new ScriptedPlugin("tidy", async (_data, context) => {
      await context.memory!.clear();
      await context.memory!.append({ role: "note", content: "kept" });
      return "done";
    });
    const runner = runnerWith([plugin], { audit, memory });
    const run = await runner.execute({ ...local, plugin: "tidy", data: { n: 1 }, sessionId: "s10" });
    expect(audit.appends).toBe(0);
    expect(audit.turns.map((entries) => entries.map((e) => [e.type, e.runId]))).toEqual([
      [
        ["memory_cleared", run.runId],
        ["plugin_run", run.runId],
      ],
    ]);
    // The note joined the turn's memory write, after the audit.
    expect((await memory.recent(sessionRef(localCaller, "s10"))).map((m) => m.content)).toEqual(["kept"]);
    // A failed run is its own turn too, with its failure as the run's outcome.
    await failureOf(runner.execute({ ...local, plugin: "tidy", data: { n: "x" }, sessionId: "s10" }));
    expect(audit.turns.at(-1)!.map((e) => [e.type, e.outcome])).toEqual([["plugin_run", "invalid_input"]]);
    // A turn the audit could not take leaves nothing in memory: the note waited for the commit.
    audit.failWrites = true;
    expect((await failureOf(runner.execute({ ...local, plugin: "tidy", data: { n: 1 }, sessionId: "s11" }))).code).toBe("storage_unavailable");
    expect(await memory.recent(sessionRef(localCaller, "s11"))).toEqual([]);
  });

  it("hands the plugin the run's caller and channel", async () => {
    const plugin = new ScriptedPlugin("whoami", async (_data, context) => ({ principalId: context.caller.principalId, channel: context.channel }));
    const runner = runnerWith([plugin]);
    const alice = createCaller("user", "alice", ["reader"]);
    await expect(runner.execute({ caller: alice, channel: "chat", plugin: "whoami", data: { n: 1 } })).resolves.toMatchObject({
      result: { principalId: "alice", channel: "chat" },
    });
    await expect(runner.execute({ caller: localCaller, channel: "operator", plugin: "whoami", data: { n: 1 } })).resolves.toMatchObject({
      result: { principalId: localCaller.principalId, channel: "operator" },
    });
  });

  it("gives two callers with the same session id two separate memories, and audits each in its own session", async () => {
    const audit = new RecordingAuditLog();
    const memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 });
    const plugin = new ScriptedPlugin("remember", async ({ n }, context) => {
      const seen = (await context.memory!.recent()).map((m) => m.content);
      if (n === 0) await context.memory!.clear();
      else await context.memory!.append({ role: "note", content: `n=${n}` });
      return seen;
    });
    const runner = runnerWith([plugin], { audit, memory });
    const alice = createCaller("user", "alice");
    const bob = createCaller("user", "bob");
    await runner.execute({ caller: alice, channel: "execute", plugin: "remember", data: { n: 1 }, sessionId: "s1" });
    const ofBob = await runner.execute({ caller: bob, channel: "execute", plugin: "remember", data: { n: 2 }, sessionId: "s1" });
    expect(ofBob.result).toEqual([]);
    expect((await memory.recent(sessionRef(alice, "s1"))).map((m) => m.content)).toEqual(["n=1"]);
    expect((await memory.recent(sessionRef(bob, "s1"))).map((m) => m.content)).toEqual(["n=2"]);
    // Bob clearing his session leaves Alice's, and the clearing is in Bob's audit only.
    await runner.execute({ caller: bob, channel: "execute", plugin: "remember", data: { n: 0 }, sessionId: "s1" });
    expect((await memory.recent(sessionRef(alice, "s1"))).map((m) => m.content)).toEqual(["n=1"]);
    expect(await memory.recent(sessionRef(bob, "s1"))).toEqual([]);
    const entries = (caller: typeof alice) => audit.of(sessionRef(caller, "s1")).map((e) => [e.type, (e as { input?: unknown }).input]);
    expect(entries(bob)).toEqual([
      ["plugin_run", { n: 2 }],
      ["memory_cleared", undefined],
      ["plugin_run", { n: 0 }],
    ]);
    expect(entries(alice)).toEqual([["plugin_run", { n: 1 }]]);
  });

  it("caches results per principal: another caller's identical input is not a hit", async () => {
    let executions = 0;
    const plugin = new ScriptedPlugin(
      "pure",
      async ({ n }) => {
        executions++;
        return n * 2;
      },
      undefined,
      60,
    );
    const runner = runnerWith([plugin]);
    const alice = createCaller("user", "alice");
    const bob = createCaller("user", "bob");
    const first = await runner.execute({ caller: alice, channel: "execute", plugin: "pure", data: { n: 1 } });
    const again = await runner.execute({ caller: alice, channel: "chat", plugin: "pure", data: { n: 1 } });
    const other = await runner.execute({ caller: bob, channel: "execute", plugin: "pure", data: { n: 1 } });
    expect([first.cached, again.cached, other.cached]).toEqual([false, true, false]);
    expect(executions).toBe(2);
  });
});

describe("PluginRunner.admit", () => {
  class Guarded extends ScriptedPlugin {
    disabled: string | undefined = undefined;
    disabledReason(): string | undefined {
      return this.disabled;
    }
  }
  const alice = createCaller("user", "alice");
  const admin = createCaller("user", "root", ["admin"]);

  it("checks, in order: the plugin exists, the policy, the plugin's configuration, then the input", async () => {
    const execute = vi.fn(async () => 1);
    const plugin = new Guarded("guarded", execute);
    const runner = runnerWith([plugin], { policy: { guarded: { channels: ["execute"] } } });
    const attempt = (channel: "execute" | "queue", data: unknown) => failureOf(runner.execute({ caller: localCaller, channel, plugin: "guarded", data }));

    plugin.disabled = "switched off";
    expect((await failureOf(runner.execute({ ...local, plugin: "missing", data: { n: "x" } }))).code).toBe("plugin_not_found");
    // Refused on a channel the policy leaves out, whether or not it is enabled or its input is valid.
    expect(await attempt("queue", { n: "x" })).toMatchObject({ code: "plugin_forbidden", details: { plugin: "guarded", channel: "queue" } });
    // Disabled: refused before its input is read.
    expect(await attempt("execute", { n: "x" })).toMatchObject({ code: "plugin_disabled", message: "switched off", details: { plugin: "guarded" } });
    plugin.disabled = undefined;
    expect((await attempt("execute", { n: "x" })).code).toBe("invalid_input");
    expect(execute).not.toHaveBeenCalled();
    await expect(runner.execute({ ...local, plugin: "guarded", data: { n: 1 } })).resolves.toMatchObject({ result: 1 });

    expect(runner.admit({ ...local, plugin: "guarded", data: { n: 2 } })).toMatchObject({ plugin, input: { n: 2 } });
    // A string is read as text, as /run reads it, once the policy and the configuration allow the run.
    expect(runner.admit({ ...local, plugin: "guarded", data: '{"n":4}' })).toMatchObject({ plugin, input: { n: 4 } });
    expect(() => runner.admit({ caller: localCaller, channel: "llm", plugin: "guarded", data: "{not read" })).toThrow(
      expect.objectContaining({ code: "plugin_forbidden" }),
    );
    plugin.disabled = "switched off";
    expect(() => runner.admit({ ...local, plugin: "guarded", data: "{not read" })).toThrow(expect.objectContaining({ code: "plugin_disabled" }));
    plugin.disabled = undefined;
    expect(() => runner.admit({ ...local, plugin: "guarded", data: "{not read" })).toThrow(expect.objectContaining({ code: "invalid_input" }));
  });

  it("lets the machine's operator (the CLI) past the policy, but not past a disabled plugin", async () => {
    const plugin = new Guarded("guarded", async ({ n }) => n);
    const runner = runnerWith([plugin], { policy: { guarded: { channels: ["queue"], roles: ["admin"] } } });
    await expect(runner.execute({ caller: localCaller, channel: "operator", plugin: "guarded", data: { n: 3 } })).resolves.toMatchObject({ result: 3 });
    // A caller the policy lets run it on no channel cannot see it: answered as an unknown name.
    expect(await failureOf(runner.execute({ ...local, plugin: "guarded", data: { n: 3 } }))).toMatchObject({
      code: "plugin_not_found",
      details: { plugin: "guarded", available: [] },
    });
    plugin.disabled = "off";
    expect((await failureOf(runner.execute({ caller: localCaller, channel: "operator", plugin: "guarded", data: { n: 3 } }))).code).toBe("plugin_disabled");
  });

  it("applies a plugin's default roles in the cloud modes only, where callers have roles", async () => {
    class AdminsOnly extends ScriptedPlugin {
      readonly defaultPolicy = { channels: ["execute", "chat"], roles: ["admin"] } as const;
    }
    const open = runnerWith([new AdminsOnly("root_only", async ({ n }) => n)]);
    await expect(open.execute({ ...local, plugin: "root_only", data: { n: 1 } })).resolves.toMatchObject({ result: 1 });
    // Its default channels do apply with AUTH_MODE=none.
    expect((await failureOf(open.execute({ caller: localCaller, channel: "queue", plugin: "root_only", data: { n: 1 } }))).code).toBe("plugin_forbidden");

    const cloud = runnerWith([new AdminsOnly("root_only", async ({ n }) => n)], { authMode: "jwt" });
    // Alice may run it nowhere, so it is not hers to see: the same answer as a name that does not exist.
    const unseen = await failureOf(cloud.execute({ caller: alice, channel: "execute", plugin: "root_only", data: { n: 1 } }));
    const unknown = await failureOf(cloud.execute({ caller: alice, channel: "execute", plugin: "root_onlx", data: { n: 1 } }));
    expect(unseen.code).toBe("plugin_not_found");
    expect({ message: unseen.message, details: unseen.details }).toEqual({
      message: unknown.message.replace("root_onlx", "root_only"),
      details: { ...(unknown.details as object), plugin: "root_only" },
    });
    await expect(cloud.execute({ caller: admin, channel: "execute", plugin: "root_only", data: { n: 1 } })).resolves.toMatchObject({ result: 1 });
    expect((await failureOf(cloud.execute({ caller: admin, channel: "llm", plugin: "root_only", data: { n: 1 } }))).code).toBe("plugin_forbidden");
  });
});

describe("PluginRunner: runs started by runs", () => {
  /**
   * A plugin that runs itself (or `next`) again with its context's lineage, `n` times more, as the
   * agent's conversation does: the lineages it saw, and the code of the nested run that failed.
   */
  function nesting(runner: () => RunningRunner, name: string, next = name) {
    return new ScriptedPlugin(name, async ({ n }, context) => {
      if (n === 0) return [context.lineage];
      try {
        const inner = await runner().execute({
          caller: context.caller,
          channel: "llm",
          plugin: next,
          data: { n: n - 1 },
          lineage: context.lineage,
          signal: context.signal,
        });
        return [context.lineage, ...(inner.result as unknown[])];
      } catch (error) {
        return [context.lineage, (error as AppError).code];
      }
    });
  }

  it("hands each run its lineage, and runs a plugin nested in a run of itself inside that run's slot", async () => {
    let runner!: RunningRunner;
    // One slot, no queue: a nested run that took a slot of its own would be refused plugin_busy.
    runner = runnerWith([nesting(() => runner, "outer")], { maxConcurrency: 1, maxQueue: 0 });
    const run = await runner.execute({ ...local, plugin: "outer", data: { n: 2 } });
    expect(run.result).toEqual([["outer"], ["outer", "outer"], ["outer", "outer", "outer"]]);
  });

  it("gives a nested run of another plugin a slot of that plugin's own", async () => {
    let runner!: RunningRunner;
    const gates: (() => void)[] = [];
    const inner = new ScriptedPlugin("inner", ({ n }) => new Promise((resolve) => gates.push(() => resolve(n))));
    runner = runnerWith([nesting(() => runner, "outer", "inner"), inner], { maxConcurrency: 1, maxQueue: 0 });
    const held = runner.execute({ ...local, plugin: "inner", data: { n: 1 } });
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    expect((await runner.execute({ ...local, plugin: "outer", data: { n: 1 } })).result).toEqual([["outer"], "plugin_busy"]);
    gates[0]!();
    await held;
  });

  it(`refuses a run nested more than ${maxRunNesting} deep with run_nesting_limit, before it starts`, async () => {
    let runner!: RunningRunner;
    let starts = 0;
    const deep = nesting(() => runner, "deep");
    const counted = new ScriptedPlugin("deep", async (data, context) => {
      starts++;
      return deep.execute(data, context);
    });
    runner = runnerWith([counted]);
    const run = await runner.execute({ ...local, plugin: "deep", data: { n: 10 } });
    const lineages = Array.from({ length: maxRunNesting + 1 }, (_, i) => Array(i + 1).fill("deep"));
    expect(run.result).toEqual([...lineages, "run_nesting_limit"]);
    expect(starts).toBe(maxRunNesting + 1);
    const error = await failureOf(runner.execute({ ...local, plugin: "deep", data: { n: 0 }, lineage: Array(maxRunNesting + 1).fill("deep") }));
    expect(error).toMatchObject({ code: "run_nesting_limit", details: { plugin: "deep", maxRunNesting } });
    expect(starts).toBe(maxRunNesting + 1);
    await expect(runner.execute({ ...local, plugin: "deep", data: { n: maxRunNesting } })).resolves.toMatchObject({ result: lineages });
  });
});

describe("PluginRunner: runs that wait for an approver", () => {
  const policy = { held: { approval: { roles: ["admin"], ttlSeconds: 60 } } };

  function heldSetUp() {
    const ran: number[] = [];
    const held = new ScriptedPlugin(
      "held",
      async ({ n }) => {
        ran.push(n);
        return n;
      },
      undefined,
      60,
    );
    const free = new ScriptedPlugin("free", async ({ n }) => n);
    const approvals = new RecordingApprovals();
    const audit = new RecordingAuditLog();
    const runner = buildRunner(PluginRunner, [held, free], { policy, authMode: "jwt", approvals, audit });
    return { ran, approvals, audit, runner };
  }

  it("leaves a run of a plugin with an approval rule as a request, on every channel, with the validated input; nothing runs", async () => {
    const { ran, approvals, runner } = heldSetUp();
    const alice = createCaller("user", "alice");
    for (const channel of ["execute", "chat", "llm", "queue", "mcp"] as const) {
      const outcome = await runner.execute({ caller: alice, channel, plugin: "held", data: '{"n": 7}', runId: `r-${channel}` });
      expect(outcome).toEqual({
        state: "awaiting_approval",
        runId: `r-${channel}`,
        plugin: "held",
        expiresAt: expect.any(String),
        location: `/api/runs/r-${channel}`,
      });
    }
    expect(approvals.requests.map((request) => [request.channel, request.input, request.caller.principalId, request.rule.ttlSeconds])).toEqual(
      ["execute", "chat", "llm", "queue", "mcp"].map((channel) => [channel, { n: 7 }, "alice", 60]),
    );
    expect(ran).toEqual([]);
    // Refused and invalid runs are refused as ever, before any request.
    expect((await failureOf(runner.execute({ caller: alice, channel: "execute", plugin: "held", data: { n: "x" } }))).code).toBe("invalid_input");
    expect(approvals.requests).toHaveLength(5);
    // A plugin without a rule runs at once.
    await expect(runner.execute({ caller: alice, channel: "execute", plugin: "free", data: { n: 1 } })).resolves.toMatchObject({ result: 1 });
  });

  it("runs it when approved, and for the operator, outside the policy", async () => {
    const { ran, approvals, runner } = heldSetUp();
    const alice = createCaller("user", "alice");
    await expect(runner.execute({ caller: alice, channel: "chat", plugin: "held", data: { n: 1 }, approved: true })).resolves.toMatchObject({ result: 1 });
    await expect(runner.execute({ caller: localCaller, channel: "operator", plugin: "held", data: { n: 2 } })).resolves.toMatchObject({ result: 2 });
    expect(ran).toEqual([1, 2]);
    expect(approvals.requests).toEqual([]);
  });

  it("asks before the result cache answers: a cached result is a run all the same", async () => {
    const { ran, approvals, runner } = heldSetUp();
    const alice = createCaller("user", "alice");
    await runner.execute({ caller: alice, channel: "execute", plugin: "held", data: { n: 3 }, approved: true });
    expect(await runner.execute({ caller: alice, channel: "execute", plugin: "held", data: { n: 3 } })).toMatchObject({ state: "awaiting_approval" });
    expect(ran).toEqual([3]);
    expect(approvals.requests).toHaveLength(1);
  });

  it("records the request in the session's turn, where a run would be", async () => {
    const { audit, runner } = heldSetUp();
    const outcome = await runner.execute({
      caller: createCaller("user", "alice"),
      channel: "execute",
      plugin: "held",
      data: { n: 4 },
      sessionId: "s1",
      runId: "r-1",
    });
    expect(audit.turns).toEqual([
      [
        expect.objectContaining({
          type: "approval_requested",
          plugin: "held",
          runId: "r-1",
          input: { n: 4 },
          outcome: "awaiting_approval",
          expiresAt: (outcome as AwaitingApproval).expiresAt,
        }),
      ],
    ]);
  });
});
