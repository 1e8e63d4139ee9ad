import { randomUUID } from "node:crypto";
import { BulkheadRejectedError, TaskCancelledError, TimeoutStrategy, timeout } from "cockatiel";
import type { z } from "zod";
import type { AuditLog } from "../audit/audit_event.js";
import { TurnRecord } from "../audit/turn_record.js";
import type { Caller } from "../auth/caller.js";
import type { Channel } from "../auth/channel.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import { resultCacheKey, type ResultCache } from "../cache/result_cache.js";
import { AppError, describeThrown } from "../errors/app_error.js";
import { errorCodes } from "../errors/error_codes.js";
import type { Logger } from "../logging/logger.js";
import type { SessionMemory } from "../memory/session_memory.js";
import { sessionRef } from "../memory/session_ref.js";
import type { AnyPlugin, PluginContext, RunLineage, SessionMemoryView } from "./plugin.js";
import { inputFromText } from "./plugin_input.js";
import type { PluginRegistry } from "./plugin_registry.js";
import { RunPolicy, type RunPolicyLimits } from "./run_policy.js";
import { inSpan, outcomeOf } from "../telemetry/tracing.js";
import type { Attributes } from "@opentelemetry/api";
import { isAwaitingApproval, type ApprovalRequests, type AwaitingApproval } from "../approvals/approval_request.js";
import type { ApprovalRule } from "../auth/plugin_policy.js";

/** How a run arrived: a caller's channel, checked against the plugin policy, or the machine's own operator (the CLI), who is not. */
export type RunChannel = Channel | "operator";

export interface RunRequest {
  /** Whose run it is: its session, memory and cached results are this caller's own. */
  readonly caller: Caller;
  readonly channel: RunChannel;
  readonly plugin: string;
  readonly data: unknown;
  readonly sessionId?: string | undefined;
  readonly runId?: string | undefined;
  /** Aborts the run when the caller goes away. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The turn this run is part of (a chat turn, or the model's tool call in one): `execute` records
   * the run into it and the turn writes it. Without it, an `execute` with a session is a turn of its own.
   */
  readonly turn?: TurnRecord | undefined;
  /** The runs this one is started from, when a run starts it (the PluginContext.lineage of that run); none when a caller does. */
  readonly lineage?: RunLineage | undefined;
  /**
   * The run was approved (an approver's decision on its request, src/approvals/): it runs now. Set
   * only by the queue worker, for the run it claimed in state `approved`.
   */
  readonly approved?: boolean | undefined;
}

export interface RunResult {
  /** The plugin's own name, also when it was called by an alias. */
  readonly plugin: string;
  readonly result: unknown;
  readonly durationMs: number;
  readonly runId: string;
  /** True when the result came from the result cache and the plugin did not run. */
  readonly cached: boolean;
}

/** A run either ran (or failed, thrown), or, when the policy asks for an approver, waits for one. */
export type RunOutcome = RunResult | AwaitingApproval;

export interface RunnerDependencies {
  readonly registry: PluginRegistry;
  readonly policy: PluginPolicy;
  readonly memory: SessionMemory;
  readonly audit: AuditLog;
  readonly cache: ResultCache;
  readonly logger: Logger;
  /** Where a run that the policy holds for an approver is left. */
  readonly approvals: ApprovalRequests;
}

export interface RunnerLimits {
  readonly defaultTimeoutMs: number;
  /** Runs of one plugin at the same time. */
  readonly maxConcurrency: number;
  /** Of those, runs of one principal at the same time; its others wait for its share. All of maxConcurrency when omitted. */
  readonly maxConcurrencyPerPrincipal?: number;
  /** Runs of one plugin waiting for a slot, and of one principal waiting for its share; one more is answered plugin_busy. */
  readonly maxQueue: number;
}

/** How deep runs may be nested (a run started by a run started by ...): one nested deeper is refused with run_nesting_limit. */
export const maxRunNesting = 3;

/**
 * Runs and records plugins, so that none of them can break the process: input is validated
 * against the plugin's schema, `initialize` runs once before the first execution, every run has a
 * timeout (which also bounds its wait for a slot), each plugin has its own bulkhead so that one
 * slow plugin cannot take every request, one principal has only a share of it, runs started by
 * runs are bounded in depth and never wait for a slot their own ancestors hold, and every failure
 * of a plugin becomes an AppError with a stable code.
 */
export class PluginRunner {
  private readonly initialized = new Map<string, Promise<void>>();
  /** Plugins whose initialisation has succeeded. */
  private readonly ready = new Set<string>();
  private readonly policies = new Map<string, RunPolicy>();
  /** Every plugin's slots, its queue and a principal's share of them. */
  private readonly slots: Omit<RunPolicyLimits, "timeoutMs">;

  constructor(
    private readonly deps: RunnerDependencies,
    private readonly limits: RunnerLimits,
  ) {
    const { maxConcurrency, maxQueue } = limits;
    this.slots = { maxConcurrency, maxConcurrencyPerPrincipal: limits.maxConcurrencyPerPrincipal ?? maxConcurrency, maxQueue };
  }

  /**
   * The plugin of this name or alias, or 404 plugin_not_found listing the plugins this caller may
   * run on this channel (what GET /api/plugins lists for it there): never one it may not run.
   */
  resolve(nameOrAlias: string, caller: Caller, channel: RunChannel): AnyPlugin {
    const plugin = this.deps.registry.resolve(nameOrAlias);
    if (!plugin) throw this.notFound(nameOrAlias, caller, channel);
    return plugin;
  }

  private notFound(nameOrAlias: string, caller: Caller, channel: RunChannel): AppError {
    return new AppError("plugin_not_found", `no plugin is named "${nameOrAlias}"`, {
      details: { plugin: nameOrAlias, available: this.available(caller, channel) },
    });
  }

  private available(caller: Caller, channel: RunChannel): string[] {
    if (channel === "operator") return this.deps.registry.list().map((p) => p.name);
    return this.deps.registry
      .describeFor(caller, this.deps.policy)
      .filter((described) => described.channels.includes(channel))
      .map((described) => described.name);
  }

  /**
   * Everything a run must pass before it may start, in this order: the plugin exists and this
   * caller may see it (else plugin_not_found), the policy lets this caller run it on this channel,
   * its configuration enables it, it is not nested too deep, and the input is valid (a string is
   * first read as text, as `/run` reads it). Then `approval` says whether the policy holds the run
   * for an approver (never the operator's, nor one approved already): one decision for every
   * channel. Asynchronous runs are admitted the same way before they are queued.
   */
  admit(request: Pick<RunRequest, "caller" | "channel" | "plugin" | "data" | "lineage" | "approved">): {
    plugin: AnyPlugin;
    input: unknown;
    approval: ApprovalRule | undefined;
  } {
    const plugin = this.resolve(request.plugin, request.caller, request.channel);
    if (request.channel !== "operator") {
      // A plugin this caller may run on no channel is one it cannot see (GET /api/plugins): it is answered as an unknown name, so that its existence is not confirmed.
      if (this.deps.policy.channelsFor(request.caller, plugin).length === 0) throw this.notFound(request.plugin, request.caller, request.channel);
      this.deps.policy.assertAllowed(request.caller, plugin, request.channel);
    }
    const disabled = plugin.disabledReason?.();
    if (disabled !== undefined) throw new AppError("plugin_disabled", disabled, { details: { plugin: plugin.name } });
    if ((request.lineage?.length ?? 0) > maxRunNesting) {
      throw new AppError("run_nesting_limit", `plugin "${plugin.name}" was not run: runs started by runs may be nested at most ${maxRunNesting} deep`, {
        details: { plugin: plugin.name, maxRunNesting },
      });
    }
    const data = typeof request.data === "string" ? inputFromText(plugin, request.data) : request.data;
    const parsed = (plugin.inputSchema as z.ZodType).safeParse(data);
    if (!parsed.success) {
      throw new AppError("invalid_input", `input for plugin "${plugin.name}" is not valid`, {
        details: {
          plugin: plugin.name,
          issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
        },
      });
    }
    const approval = request.channel === "operator" || request.approved ? undefined : this.deps.policy.approvalFor(plugin);
    return { plugin, input: parsed.data, approval };
  }

  /**
   * A run as every channel sees it (the API, chat, the model's tool calls, MCP, the queue, the
   * CLI), in one span `plugin <name>` with the plugin, the channel, the run id, the outcome
   * (`success`, `awaiting_approval` or the error code), whether the cache answered and the
   * duration: the span Application Insights queries for slow or failing plugins
   * (docs/telemetry.md). Admitted first (`admit`); then held for an approver when the policy says
   * so (before the cache too: a cached result is a run all the same), else run (`runPlugin`).
   *
   * A run in a session is recorded into its turn (a plugin_run or approval_requested entry, after
   * what the plugin itself did there); without a `turn` it is a turn of its own (the API, the
   * queue, the CLI), written before the run is answered.
   */
  async execute(request: RunRequest): Promise<RunOutcome> {
    const runId = request.runId ?? randomUUID();
    const turn = request.sessionId ? (request.turn ?? new TurnRecord(sessionRef(request.caller, request.sessionId))) : undefined;
    // Named by the plugin's own name (also when called by an alias); an unknown name is what a caller typed and stays out.
    const known = this.deps.registry.resolve(request.plugin)?.name;
    const attributes: Attributes = { "plugin.channel": request.channel, "plugin.run_id": runId };
    if (known) attributes["plugin.name"] = known;
    try {
      return await inSpan(known ? `plugin ${known}` : "plugin (unknown)", { attributes }, async (span) => {
        const started = performance.now();
        try {
          const { plugin, input, approval } = this.admit(request);
          const { caller, sessionId } = request;
          // The operator's runs are never held (admit), so a held run's channel is a caller's.
          const channel = request.channel as Channel;
          const outcome = approval
            ? await this.deps.approvals.request({ caller, channel, plugin: plugin.name, input, sessionId, runId, rule: approval })
            : await this.runPlugin(plugin, input, request, runId, turn);
          if (isAwaitingApproval(outcome)) {
            span.setAttributes({ "plugin.outcome": outcome.state, "plugin.cached": false, "approval.expires_at": outcome.expiresAt });
            turn?.record({
              type: "approval_requested",
              plugin: outcome.plugin,
              runId,
              input: request.data,
              outcome: outcome.state,
              expiresAt: outcome.expiresAt,
            });
          } else {
            span.setAttributes({ "plugin.outcome": "success", "plugin.cached": outcome.cached, "plugin.duration_ms": outcome.durationMs });
            const { result, durationMs } = outcome;
            turn?.record({ type: "plugin_run", plugin: outcome.plugin, runId, input: request.data, result, outcome: "success", durationMs });
          }
          return outcome;
        } catch (error) {
          const durationMs = Math.round(performance.now() - started);
          span.setAttributes({ "plugin.outcome": outcomeOf(error), "plugin.cached": false, "plugin.duration_ms": durationMs });
          const errorMessage = error instanceof AppError ? error.message : "the run failed";
          turn?.record({ type: "plugin_run", plugin: request.plugin, runId, input: request.data, outcome: outcomeOf(error), errorMessage, durationMs });
          throw error;
        }
      });
    } finally {
      // A turn of its own is written whatever the outcome, before the run is answered.
      if (turn && turn !== request.turn) await turn.commit(this.deps);
    }
  }

  /** An admitted run that is not held: answered from the result cache, or run under its plugin's timeout and bulkheads. */
  private async runPlugin(plugin: AnyPlugin, input: unknown, request: RunRequest, runId: string, turn: TurnRecord | undefined): Promise<RunResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    // The run's logger is made when something logs (most runs log nothing).
    let runLogger: Logger | undefined;
    const logger = () => (runLogger ??= this.deps.logger.child({ plugin: plugin.name, runId }));

    // Per principal: a hit would tell one caller what another has asked.
    const cacheKey = plugin.cacheTtlSeconds ? `${request.caller.principalKey}:${resultCacheKey(plugin.name, input)}` : undefined;
    if (cacheKey) {
      const hit = await this.cached(cacheKey, logger);
      if (hit !== undefined) return { plugin: plugin.name, result: hit, durationMs: elapsed(), runId, cached: true };
    }

    // Initialised already (every run but the first): no await, which would cost a turn of the microtask queue.
    if (!this.ready.has(plugin.name)) await this.ensureInitialized(plugin, logger);
    let result: unknown;
    try {
      const memory = turn ? this.memoryView(turn, runId) : undefined;
      const policyRun = { principal: request.caller.principalKey, nested: request.lineage?.includes(plugin.name), callerSignal: request.signal };
      result = await this.policyFor(plugin).execute(
        (run) => plugin.execute(input, new RunContext(runId, plugin.name, request, turn, memory, run, logger)),
        policyRun,
      );
    } catch (error) {
      throw this.failure(plugin, error, { logger, runId, callerSignal: request.signal });
    }
    assertSerialisable(plugin, result);
    if (cacheKey && plugin.cacheTtlSeconds) await this.remember(cacheKey, result, plugin.cacheTtlSeconds, logger);
    return { plugin: plugin.name, result, durationMs: elapsed(), runId, cached: false };
  }

  /** Shuts down every plugin that was initialised, each bounded in time. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    const policy = timeout(timeoutMs, TimeoutStrategy.Aggressive);
    const names = [...this.initialized.keys()];
    this.initialized.clear();
    this.ready.clear();
    await Promise.all(
      names.map(async (name) => {
        const plugin = this.deps.registry.resolve(name);
        if (!plugin) return;
        try {
          await policy.execute(() => plugin.shutdown());
        } catch (error) {
          this.deps.logger.warn("plugin shutdown failed", { plugin: name, error: describeThrown(error) });
        }
      }),
    );
    if (names.length > 0) this.deps.logger.info("plugins shut down", { plugins: names });
  }

  private policyFor(plugin: AnyPlugin): RunPolicy {
    let policy = this.policies.get(plugin.name);
    if (!policy) {
      // The timeout is outside the bulkheads, so time spent waiting for a slot counts too; at the deadline
      // the caller is answered even if the plugin ignores its abort signal (src/plugins/run_policy.ts).
      policy = new RunPolicy({ timeoutMs: plugin.timeoutMs ?? this.limits.defaultTimeoutMs, ...this.slots });
      this.policies.set(plugin.name, policy);
    }
    return policy;
  }

  private ensureInitialized(plugin: AnyPlugin, logger: () => Logger): Promise<void> {
    let ready = this.initialized.get(plugin.name);
    if (!ready) {
      // Concurrent first calls share one initialisation; a failed one is forgotten so a later call retries.
      ready = Promise.resolve()
        .then(() => plugin.initialize())
        .then(() => {
          // Unless shut down meanwhile (which forgets the initialisation).
          if (this.initialized.get(plugin.name) === ready) this.ready.add(plugin.name);
        })
        .catch((error: unknown) => {
          this.initialized.delete(plugin.name);
          logger().error("plugin initialisation failed", { error: describeThrown(error) });
          throw new AppError("plugin_failed", `plugin "${plugin.name}" could not be initialised`, { cause: error });
        });
      this.initialized.set(plugin.name, ready);
    }
    return ready;
  }

  private failure(plugin: AnyPlugin, error: unknown, context: { logger: () => Logger; runId: string; callerSignal: AbortSignal | undefined }): AppError {
    const { runId } = context;
    const timeoutMs = this.policyFor(plugin).timeoutMs;
    const logger = context.logger();
    if (error instanceof BulkheadRejectedError) {
      logger.warn("plugin busy", { ...this.slots });
      return new AppError("plugin_busy", `plugin "${plugin.name}" is busy; try again shortly`, { details: { plugin: plugin.name, ...this.slots } });
    }
    if (error instanceof TaskCancelledError && !context.callerSignal?.aborted) {
      logger.warn("plugin timed out", { timeoutMs });
      return new AppError("plugin_timeout", `plugin "${plugin.name}" did not finish within ${timeoutMs} ms`, {
        details: { plugin: plugin.name, runId, timeoutMs },
      });
    }
    if (error instanceof AppError && errorCodes[error.code].pluginsMayRaise) return error;
    logger.error("plugin failed", { error: describeThrown(error) });
    // The plugin's own message may carry internals (paths, hosts); the caller gets the run id to ask about.
    return new AppError("plugin_failed", `plugin "${plugin.name}" failed`, { details: { plugin: plugin.name, runId }, cause: error });
  }

  // The cache only saves work: when it cannot be read or written, the plugin simply runs.
  private async cached(key: string, logger: () => Logger): Promise<unknown> {
    try {
      return await this.deps.cache.get(key);
    } catch (error) {
      logger().warn("result cache read failed", { error: describeThrown(error) });
      return undefined;
    }
  }

  private async remember(key: string, result: unknown, ttlSeconds: number, logger: () => Logger): Promise<void> {
    try {
      await this.deps.cache.set(key, result, ttlSeconds);
    } catch (error) {
      logger().warn("result cache write failed", { error: describeThrown(error) });
    }
  }

  /** The session's memory as the run's plugin sees it: what it remembers joins the turn's one memory write, in order with the turn's messages. */
  private memoryView(turn: TurnRecord, runId: string): SessionMemoryView {
    const { memory } = this.deps;
    const { session } = turn;
    return {
      sessionId: session.sessionId,
      recent: (limit) => memory.recent(session, limit),
      append: async (message) => turn.remember({ ...message, at: new Date().toISOString() }),
      clear: async () => {
        // At once, as the plugin asked (an audit write that fails after it cannot bring the messages back); recorded in the turn.
        await memory.clear(session);
        turn.forgetMessages();
        turn.record({ type: "memory_cleared", runId });
      },
    };
  }
}

/**
 * What a plugin's `execute` gets. Its logger is made when the plugin first reads it (most runs
 * log nothing): getters of the class, rather than of an object literal, which would make two
 * more functions per run.
 */
class RunContext implements PluginContext {
  readonly caller: Caller;
  readonly channel: RunChannel;
  readonly sessionId: string | undefined;
  readonly lineage: RunLineage;

  constructor(
    readonly runId: string,
    plugin: string,
    request: RunRequest,
    readonly turn: TurnRecord | undefined,
    readonly memory: SessionMemoryView | undefined,
    private readonly run: { readonly signal: AbortSignal },
    private readonly loggerOf: () => Logger,
  ) {
    this.caller = request.caller;
    this.channel = request.channel;
    this.sessionId = request.sessionId;
    this.lineage = [...(request.lineage ?? []), plugin];
  }

  get signal(): AbortSignal {
    return this.run.signal;
  }

  get logger(): Logger {
    return this.loggerOf();
  }
}

function assertSerialisable(plugin: AnyPlugin, result: unknown): void {
  if (result === undefined) {
    throw new AppError("plugin_failed", `plugin "${plugin.name}" returned no result`, { details: { plugin: plugin.name } });
  }
  // These always serialise; anything else (objects, arrays, bigints) is tried once here, before it is answered.
  if (result === null || typeof result === "string" || typeof result === "number" || typeof result === "boolean") return;
  try {
    JSON.stringify(result);
  } catch (error) {
    throw new AppError("plugin_failed", `plugin "${plugin.name}" returned a result that cannot be serialised to JSON`, {
      details: { plugin: plugin.name },
      cause: error,
    });
  }
}
