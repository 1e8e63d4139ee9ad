/**
 * The plugin API: everything a plugin may import from the application.
 * A plugin is a name, a title, a description, behaviour hints, a zod input schema and a handler
 * (like an MCP tool), plus an optional lifecycle. It never reaches Redis, Table Storage or Azure
 * Functions directly.
 */
import type { z } from "zod";
import type { TurnRecord } from "../audit/turn_record.js";
import type { Caller } from "../auth/caller.js";
import type { Channel } from "../auth/channel.js";
import type { PluginSettings } from "../config/config.js";
import type { Logger } from "../logging/logger.js";
import type { MemoryMessage } from "../memory/memory_message.js";

export type { Logger } from "../logging/logger.js";
export { memoryMessageSchema, type MemoryMessage } from "../memory/memory_message.js";
export type { PluginSettings } from "../config/config.js";
export type { Caller } from "../auth/caller.js";
export type { Channel } from "../auth/channel.js";
export { AppError } from "../errors/app_error.js";
// For plugins that call other services: the same backoff the app's own clients use.
export { RetryAfterBackoff, isRetryableStatus, parseRetryAfter, type BackoffOptions } from "../resilience/retry_after_backoff.js";

/** The current session's memory, already bound to its session id. */
export interface SessionMemoryView {
  readonly sessionId: string;
  recent(limit?: number): Promise<MemoryMessage[]>;
  append(message: Omit<MemoryMessage, "at">): Promise<void>;
  /** Empties the session's memory; the clearing itself is recorded in the audit log, which no plugin can delete. */
  clear(): Promise<void>;
}

export interface PluginContext {
  readonly runId: string;
  /** Who the run is for; its session, memory and any runs it starts are this caller's. */
  readonly caller: Caller;
  /** How the run arrived. */
  readonly channel: Channel | "operator";
  readonly sessionId: string | undefined;
  /** Fires when the run times out or the caller gives up; long work should stop when it does. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Present when the run belongs to a session. */
  readonly memory: SessionMemoryView | undefined;
  /** The record of the turn the run is part of: hand it on to the agent runner, so that its tool calls join the turn. */
  readonly turn?: TurnRecord | undefined;
  /**
   * The plugins of the runs this one is nested in, outermost first, then this run's own: what a run
   * started by this one is nested in. Hand it on with the context (the agent runner does): a nested
   * run of a plugin already in it runs inside that run's slot, and one nested too deep is refused.
   */
  readonly lineage: RunLineage;
}

/** Plugin names of nested runs, outermost first (see PluginContext.lineage). */
export type RunLineage = readonly string[];

/**
 * Runs one instruction through the same LLM and tool loop as chat, as part of the run whose context
 * it is given: the caller's, in its session and turn, its tool runs nested in that run's lineage.
 */
export interface AgentRunner {
  /** Fails with llm_unavailable when no language model is configured or it cannot be reached. */
  run(instruction: string, context: Pick<PluginContext, "caller" | "sessionId" | "signal" | "turn" | "lineage">): Promise<{ reply: string; toolCalls: number }>;
}

/** Settings handed to plugin constructors; plugins never read the environment themselves. */
export interface PluginEnvironment {
  readonly logger: Logger;
  readonly settings: PluginSettings;
  readonly agent: AgentRunner;
}

/**
 * What a run of the plugin does to the world, as MCP's tool annotations say it; clients show them
 * before they list a tool, and may ask a person before a destructive one. Every plugin states all
 * four: MCP takes a missing destructiveHint or openWorldHint as true.
 */
export interface PluginAnnotations {
  /** It changes nothing: no memory, no file, no other system. */
  readonly readOnlyHint: boolean;
  /** It may delete or overwrite something (meaningful only when not read-only). */
  readonly destructiveHint: boolean;
  /** Running it again with the same input has no further effect. */
  readonly idempotentHint: boolean;
  /** It reaches beyond this app (a model, a remote API, whatever a command reaches). */
  readonly openWorldHint: boolean;
}

export interface Plugin<Input = unknown, Output = unknown> {
  readonly name: string;
  /** A short name for people, as MCP clients show it: "Calculator". */
  readonly title: string;
  readonly description: string;
  readonly annotations: PluginAnnotations;
  readonly inputSchema: z.ZodType<Input>;
  /**
   * The schema of the result, for a plugin whose result is a JSON object: MCP clients are given it
   * as the tool's outputSchema and the result as structuredContent, checked against it.
   */
  readonly outputSchema?: z.ZodType<Output>;
  readonly aliases?: readonly string[];
  /** Overrides the configured default timeout for this plugin. */
  readonly timeoutMs?: number;
  /**
   * Results may be cached for this many seconds, keyed by the validated input. Only for plugins
   * whose result depends on nothing but their input (calculator: yes; shell, memory: no).
   */
  readonly cacheTtlSeconds?: number;
  /**
   * Who may run it when PLUGIN_POLICY says nothing of it: the channels (all when omitted) and the
   * roles of which a caller needs one (any caller when omitted; not applied with AUTH_MODE=none,
   * whose one local caller has no roles).
   */
  readonly defaultPolicy?: { readonly channels?: readonly Channel[]; readonly roles?: readonly string[] };
  /**
   * Why the plugin cannot run with this configuration (the shell plugin without an allow-list),
   * or undefined when it can. A disabled plugin answers 403 plugin_disabled before its input is
   * read, and is never offered to a model.
   */
  disabledReason?(): string | undefined;
  /** Runs once per process, lazily, before the first execution. */
  initialize(): Promise<void>;
  execute(data: Input, context: PluginContext): Promise<Output>;
  /** Runs when the process is asked to stop, for plugins that were initialised. */
  shutdown(): Promise<void>;
  /** Turns the text of `/run <plugin> <text>` into input when that text is not a JSON object. */
  inputFromText?(text: string): unknown;
  /** How a result reads as a chat reply; the default shows strings as they are and the rest as JSON. */
  formatReply?(result: Output): string;
}

export type AnyPlugin = Plugin<unknown, unknown>;

/** Base class with the no-op lifecycle most plugins want. */
export abstract class BasePlugin<Input, Output> implements Plugin<Input, Output> {
  abstract readonly name: string;
  abstract readonly title: string;
  abstract readonly description: string;
  abstract readonly annotations: PluginAnnotations;
  abstract readonly inputSchema: z.ZodType<Input>;
  async initialize(): Promise<void> {}
  abstract execute(data: Input, context: PluginContext): Promise<Output>;
  async shutdown(): Promise<void> {}
}

export type PluginClass = new (environment: PluginEnvironment) => AnyPlugin;
