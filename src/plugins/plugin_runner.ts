import { randomUUID } from "node:crypto";
import { TaskCancelledError, TimeoutStrategy, timeout } from "cockatiel";
import type { z } from "zod";
import { AppError, describeThrown } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { SessionMemory } from "../memory/session_memory.js";
import type { AnyPlugin, PluginContext, SessionMemoryView } from "./plugin.js";
import type { PluginRegistry } from "./plugin_registry.js";

export interface RunRequest {
  readonly plugin: string;
  readonly data: unknown;
  readonly sessionId?: string | undefined;
  readonly runId?: string | undefined;
  /** Aborts the run when the caller goes away. */
  readonly signal?: AbortSignal | undefined;
}

export interface RunResult {
  /** The plugin's own name, also when it was called by an alias. */
  readonly plugin: string;
  readonly result: unknown;
  readonly durationMs: number;
  readonly runId: string;
}

/** Error codes a plugin may raise itself; anything else it throws is reported as plugin_failed. */
const codesPluginsMayRaise = new Set(["invalid_input", "plugin_failed"]);

/**
 * Runs plugins so that none of them can break the process: input is validated against the
 * plugin's schema, `initialize` runs once before the first execution, every run has a timeout,
 * and every failure becomes an AppError with a stable code.
 */
export class PluginRunner {
  private readonly initialized = new Map<string, Promise<void>>();

  constructor(
    private readonly registry: PluginRegistry,
    private readonly memory: SessionMemory,
    private readonly logger: Logger,
    private readonly defaultTimeoutMs: number,
  ) {}

  resolve(nameOrAlias: string): AnyPlugin {
    const plugin = this.registry.resolve(nameOrAlias);
    if (!plugin) {
      throw new AppError("plugin_not_found", `no plugin is named "${nameOrAlias}"`, {
        details: { plugin: nameOrAlias, available: this.registry.list().map((p) => p.name) },
      });
    }
    return plugin;
  }

  validate(plugin: AnyPlugin, data: unknown): unknown {
    const parsed = (plugin.inputSchema as z.ZodType).safeParse(data);
    if (!parsed.success) {
      throw new AppError("invalid_input", `input for plugin "${plugin.name}" is not valid`, {
        details: {
          plugin: plugin.name,
          issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
        },
      });
    }
    return parsed.data;
  }

  async run(request: RunRequest): Promise<RunResult> {
    const plugin = this.resolve(request.plugin);
    const input = this.validate(plugin, request.data);
    const runId = request.runId ?? randomUUID();
    const logger = this.logger.child({ plugin: plugin.name, runId });
    const started = performance.now();

    await this.ensureInitialized(plugin, logger);
    const timeoutMs = plugin.timeoutMs ?? this.defaultTimeoutMs;
    // Aggressive: the caller is answered at the deadline even if the plugin ignores its abort signal.
    const policy = timeout(timeoutMs, TimeoutStrategy.Aggressive);
    let result: unknown;
    try {
      result = await policy.execute(
        ({ signal }) =>
          plugin.execute(input, {
            runId,
            sessionId: request.sessionId,
            signal,
            logger,
            memory: request.sessionId ? this.memoryView(request.sessionId) : undefined,
          } satisfies PluginContext),
        request.signal,
      );
    } catch (error) {
      throw this.failure(plugin, error, timeoutMs, logger, runId, request.signal);
    }
    assertSerialisable(plugin, result);
    return { plugin: plugin.name, result, durationMs: Math.round(performance.now() - started), runId };
  }

  /** Shuts down every plugin that was initialised, each bounded in time. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    const policy = timeout(timeoutMs, TimeoutStrategy.Aggressive);
    const names = [...this.initialized.keys()];
    this.initialized.clear();
    await Promise.all(
      names.map(async (name) => {
        const plugin = this.registry.resolve(name);
        if (!plugin) return;
        try {
          await policy.execute(() => plugin.shutdown());
        } catch (error) {
          this.logger.warn("plugin shutdown failed", { plugin: name, error: describeThrown(error) });
        }
      }),
    );
  }

  private ensureInitialized(plugin: AnyPlugin, logger: Logger): Promise<void> {
    let ready = this.initialized.get(plugin.name);
    if (!ready) {
      // Concurrent first calls share one initialisation; a failed one is forgotten so a later call retries.
      ready = Promise.resolve()
        .then(() => plugin.initialize())
        .catch((error: unknown) => {
          this.initialized.delete(plugin.name);
          logger.error("plugin initialisation failed", { error: describeThrown(error) });
          throw new AppError("plugin_failed", `plugin "${plugin.name}" could not be initialised`, { cause: error });
        });
      this.initialized.set(plugin.name, ready);
    }
    return ready;
  }

  private failure(
    plugin: AnyPlugin,
    error: unknown,
    timeoutMs: number,
    logger: Logger,
    runId: string,
    callerSignal?: AbortSignal,
  ): AppError {
    if (error instanceof TaskCancelledError && !callerSignal?.aborted) {
      logger.warn("plugin timed out", { timeoutMs });
      return new AppError("plugin_timeout", `plugin "${plugin.name}" did not finish within ${timeoutMs} ms`, {
        details: { plugin: plugin.name, runId, timeoutMs },
      });
    }
    if (error instanceof AppError && codesPluginsMayRaise.has(error.code)) return error;
    logger.error("plugin failed", { error: describeThrown(error) });
    // The plugin's own message may carry internals (paths, hosts); the caller gets the run id to ask about.
    return new AppError("plugin_failed", `plugin "${plugin.name}" failed`, { details: { plugin: plugin.name, runId }, cause: error });
  }

  private memoryView(sessionId: string): SessionMemoryView {
    const memory = this.memory;
    return {
      sessionId,
      recent: (limit) => memory.recent(sessionId, limit),
      append: (message) => memory.append(sessionId, { ...message, at: new Date().toISOString() }),
    };
  }
}

function assertSerialisable(plugin: AnyPlugin, result: unknown): void {
  if (result === undefined) {
    throw new AppError("plugin_failed", `plugin "${plugin.name}" returned no result`, { details: { plugin: plugin.name } });
  }
  try {
    JSON.stringify(result);
  } catch (error) {
    throw new AppError("plugin_failed", `plugin "${plugin.name}" returned a result that cannot be serialised to JSON`, {
      details: { plugin: plugin.name },
      cause: error,
    });
  }
}
