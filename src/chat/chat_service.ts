import type { AuditLog } from "../audit/audit_event.js";
import type { Caller } from "../auth/caller.js";
import { AppError } from "../errors/app_error.js";
import type { MemoryMessage } from "../memory/memory_message.js";
import { newSessionId } from "../memory/session_id.js";
import type { SessionMemory } from "../memory/session_memory.js";
import { sessionRef, type SessionRef } from "../memory/session_ref.js";
import type { PluginExecution } from "../plugins/plugin_execution.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";
import type { ChatEvent, ChatReply } from "./chat_events.js";
import type { Conversation } from "./conversation.js";
import { historyForModel } from "./history.js";
import { parseRunCommand, replyText } from "./run_command.js";

export type { ChatEvent, ChatReply } from "./chat_events.js";

export interface ChatRequest {
  /** The session (and its memory and audit) is this caller's own. */
  readonly caller: Caller;
  readonly message: string;
  readonly sessionId?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ChatLimits {
  readonly maxMessages: number;
  readonly maxChars: number;
  /** The whole answer to one message must come within this. */
  readonly timeoutMs: number;
}

/**
 * The chat dispatcher: `/run <plugin> <input>` runs a plugin directly; anything else goes to
 * the LLM, with the session's memory as context, and the LLM may call plugins as tools. The
 * user's message is remembered and audited before anything else happens, so that it is kept
 * even when the answer fails; the reply is stored once it is complete.
 */
export class ChatService {
  constructor(
    private readonly memory: SessionMemory,
    private readonly audit: AuditLog,
    private readonly runner: PluginRunner,
    private readonly execution: PluginExecution,
    /** Undefined when no LLM is configured: free text then answers llm_unavailable. */
    private readonly conversation: Conversation | undefined,
    private readonly limits: ChatLimits,
  ) {}

  async handle(request: ChatRequest): Promise<ChatReply> {
    for await (const event of this.events(request, false)) if (event.type === "reply") return event.reply;
    throw new AppError("internal_error", "the message was not answered");
  }

  /** The answer as events: session, then tokens and tool calls as they happen, then the reply. */
  async *events(request: ChatRequest, stream: boolean): AsyncGenerator<ChatEvent, void> {
    const sessionId = request.sessionId ?? newSessionId();
    const session = sessionRef(request.caller, sessionId);
    const previous = this.conversation ? await this.memory.recent(session, this.limits.maxMessages) : [];
    const deadline = AbortSignal.timeout(this.limits.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    const userMessage: MemoryMessage = { role: "user", content: request.message, at: new Date().toISOString() };
    await Promise.all([
      this.memory.append(session, userMessage),
      this.audit.append(session, { type: "user_message", content: request.message }),
    ]);
    yield { type: "session", sessionId };
    try {
      const command = parseRunCommand(request.message);
      const reply = command
        ? await this.runCommand(request.caller, session, command.plugin, command.inputText, signal)
        : yield* this.askModel(request.caller, session, request.message, previous, stream, signal);
      yield { type: "reply", reply };
    } catch (error) {
      const failure = deadline.aborted
        ? new AppError("llm_unavailable", `the answer did not come within ${this.limits.timeoutMs} ms`, { details: { timeoutMs: this.limits.timeoutMs } })
        : error instanceof AppError
          ? error
          : new AppError("internal_error", "the message could not be answered", { cause: error });
      await this.audit.append(session, { type: "reply", outcome: failure.code, errorMessage: failure.message });
      // A caller that did not send a session id still needs it to continue or to read the audit.
      throw new AppError(failure.code, failure.message, { details: { ...asObject(failure.details), sessionId }, cause: failure.cause });
    }
  }

  private async runCommand(caller: Caller, session: SessionRef, pluginName: string, inputText: string, signal: AbortSignal | undefined): Promise<ChatReply> {
    const plugin = this.runner.resolve(pluginName);
    // The runner reads the text as the plugin's input once the policy and the plugin's configuration allow the run.
    const run = await this.execution.execute({ caller, channel: "chat", plugin: plugin.name, data: inputText, sessionId: session.sessionId, signal });
    const reply = replyText(plugin, run.result);
    await this.remember(session, reply, "plugin", run.plugin, run.runId);
    return { sessionId: session.sessionId, reply, source: "plugin", plugin: run.plugin, result: run.result, runId: run.runId };
  }

  private async *askModel(
    caller: Caller,
    session: SessionRef,
    message: string,
    previous: readonly MemoryMessage[],
    stream: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<ChatEvent, ChatReply> {
    if (!this.conversation) {
      throw new AppError("llm_unavailable", "no language model is configured; use /run <plugin> <input> to run a plugin");
    }
    const outcome = yield* this.conversation.run({
      history: historyForModel(previous, this.limits),
      message,
      caller,
      sessionId: session.sessionId,
      stream,
      signal,
    });
    await this.remember(session, outcome.reply, "llm");
    return { sessionId: session.sessionId, reply: outcome.reply, source: "llm", toolCalls: outcome.toolCalls };
  }

  private async remember(session: SessionRef, reply: string, source: "plugin" | "llm", plugin?: string, runId?: string): Promise<void> {
    await Promise.all([
      this.memory.append(session, { role: "assistant", content: reply, plugin, at: new Date().toISOString() }),
      this.audit.append(session, { type: "reply", content: reply, source, plugin, runId, outcome: "success" }),
    ]);
  }
}

function asObject(details: unknown): Record<string, unknown> {
  return details !== null && typeof details === "object" && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
}
