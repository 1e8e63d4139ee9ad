import type { AuditLog } from "../audit/audit_event.js";
import { TurnRecord } from "../audit/turn_record.js";
import type { Caller } from "../auth/caller.js";
import { AppError } from "../errors/app_error.js";
import type { LlmMessage } from "../llm/chat_model.js";
import type { Logger } from "../logging/logger.js";
import type { MemoryMessage } from "../memory/memory_message.js";
import { newSessionId } from "../memory/session_id.js";
import type { SessionMemory } from "../memory/session_memory.js";
import { sessionRef } from "../memory/session_ref.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";
import type { ChatEvent, ChatReply } from "./chat_events.js";
import type { Conversation } from "./conversation.js";
import { boundedHistory, historyForModel } from "./history.js";
import { parseRunCommand, replyText } from "./run_command.js";
import { awaitingApprovalText, isAwaitingApproval } from "../approvals/approval_request.js";

export type { ChatEvent, ChatReply } from "./chat_events.js";

export interface ChatRequest {
  /** The session (and its memory and audit) is this caller's own. */
  readonly caller: Caller;
  readonly message: string;
  readonly sessionId?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * The conversation so far as the client keeps it (an OpenAI-style request sends it whole): the
   * model is given it, within the same bounds, instead of the session's memory, which is not read.
   */
  readonly history?: readonly LlmMessage[] | undefined;
  /**
   * False: the turn belongs to no session (stateless, as OpenAI's API is): nothing of it is
   * remembered or audited, and its runs are a session's no more than an execute without one.
   * Its reply still names a session id, one that nothing is stored under. Default true.
   */
  readonly record?: boolean | undefined;
}

export interface ChatLimits {
  readonly maxMessages: number;
  readonly maxChars: number;
  /** The whole answer to one message must come within this. */
  readonly timeoutMs: number;
}

/**
 * The chat dispatcher: `/run <plugin> <input>` runs a plugin directly; anything else goes to
 * the LLM, with the session's memory as context, and the LLM may call plugins as tools.
 *
 * One atomic record per turn: the user's message, the runs and tool calls, and the reply with its
 * one outcome (success or the error code) are collected in a TurnRecord and written once the
 * outcome is known, before the answer is sent: the audit log as one transaction, then memory as
 * one MULTI. A turn that fails is recorded the same way, with the failure as its reply's outcome.
 * A turn of no session (`record: false`, an OpenAI-style request without a session) records nothing.
 */
export class ChatService {
  constructor(
    private readonly memory: SessionMemory,
    private readonly audit: AuditLog,
    private readonly runner: PluginRunner,
    /** Undefined when no LLM is configured: free text then answers llm_unavailable. */
    private readonly conversation: Conversation | undefined,
    private readonly limits: ChatLimits,
    private readonly logger: Logger,
  ) {}

  async handle(request: ChatRequest): Promise<ChatReply> {
    for await (const event of this.events(request, false)) if (event.type === "reply") return event.reply;
    throw new AppError("internal_error", "the message was not answered");
  }

  /** The answer as events: session, then tokens and tool calls as they happen, then the reply. */
  async *events(request: ChatRequest, stream: boolean): AsyncGenerator<ChatEvent, void> {
    const sessionId = request.sessionId ?? newSessionId();
    const session = sessionRef(request.caller, sessionId);
    const history = request.history
      ? boundedHistory(request.history, this.limits)
      : this.conversation
        ? historyForModel(await this.memory.recent(session, this.limits.maxMessages), this.limits)
        : [];
    const deadline = AbortSignal.timeout(this.limits.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    const userMessage: MemoryMessage = { role: "user", content: request.message, at: new Date().toISOString() };
    const turn = new TurnRecord(session);
    turn.record({ type: "user_message", content: request.message });
    turn.remember(userMessage);
    // The turn the runs and tool calls are recorded into; none for a turn of no session.
    const recording = request.record === false ? undefined : turn;
    yield { type: "session", sessionId };
    let reply: ChatReply;
    try {
      const command = parseRunCommand(request.message);
      reply = command
        ? await this.runCommand(request.caller, sessionId, recording, command.plugin, command.inputText, signal)
        : yield* this.askModel(request.caller, sessionId, recording, request.message, history, stream, signal);
    } catch (error) {
      const failure = deadline.aborted
        ? new AppError("llm_unavailable", `the answer did not come within ${this.limits.timeoutMs} ms`, { details: { timeoutMs: this.limits.timeoutMs } })
        : error instanceof AppError
          ? error
          : new AppError("internal_error", "the message could not be answered", { cause: error });
      if (!recording) throw failure;
      turn.record({ type: "reply", outcome: failure.code, errorMessage: failure.message });
      // The message goes to memory without an answer, as the log has it.
      const recorded = await this.commit(turn).then(
        () => failure,
        (writeFailure: unknown) => asAppError(writeFailure),
      );
      // A caller that did not send a session id still needs it to continue or to read the audit.
      throw new AppError(recorded.code, recorded.message, { details: { ...asObject(recorded.details), sessionId }, cause: recorded.cause });
    }
    if (!recording) {
      if (reply.approval) yield { type: "awaiting_approval", ...reply.approval };
      yield { type: "reply", reply };
      return;
    }
    turn.record({ type: "reply", content: reply.reply, source: reply.source, plugin: reply.plugin, runId: reply.runId, outcome: "success" });
    turn.remember({ role: "assistant", content: reply.reply, plugin: reply.plugin, at: new Date().toISOString() });
    try {
      // Written before the final event, also when streamed: a reply the client sees is in the log.
      await this.commit(turn);
      if (reply.approval) yield { type: "awaiting_approval", ...reply.approval };
    } catch (error) {
      // Nothing of the turn is in the log (or in memory): the client is told it failed.
      const failure = asAppError(error);
      throw new AppError(failure.code, failure.message, { details: { ...asObject(failure.details), sessionId }, cause: failure.cause });
    }
    yield { type: "reply", reply };
  }

  private commit(turn: TurnRecord): Promise<void> {
    return turn.commit({ audit: this.audit, memory: this.memory, logger: this.logger });
  }

  /** `turn` undefined: a turn of no session, whose run is a session's no more than an execute without one. */
  private async runCommand(
    caller: Caller,
    sessionId: string,
    turn: TurnRecord | undefined,
    pluginName: string,
    inputText: string,
    signal: AbortSignal | undefined,
  ): Promise<ChatReply> {
    const plugin = this.runner.resolve(pluginName, caller, "chat");
    // The runner reads the text as the plugin's input once the policy and the plugin's configuration allow the run.
    const run = await this.runner.execute({ caller, channel: "chat", plugin: plugin.name, data: inputText, sessionId: turn?.session.sessionId, signal, turn });
    if (isAwaitingApproval(run)) return { sessionId, reply: awaitingApprovalText(run), source: "plugin", plugin: run.plugin, runId: run.runId, approval: run };
    const reply = replyText(plugin, run.result);
    return { sessionId, reply, source: "plugin", plugin: run.plugin, result: run.result, runId: run.runId };
  }

  private async *askModel(
    caller: Caller,
    sessionId: string,
    turn: TurnRecord | undefined,
    message: string,
    history: readonly LlmMessage[],
    stream: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<ChatEvent, ChatReply> {
    if (!this.conversation) {
      throw new AppError("llm_unavailable", "no language model is configured; use /run <plugin> <input> to run a plugin");
    }
    const outcome = yield* this.conversation.run({ history, message, caller, sessionId: turn?.session.sessionId, stream, signal, turn });
    return { sessionId, reply: outcome.reply, source: "llm", toolCalls: outcome.toolCalls };
  }
}

function asAppError(error: unknown): AppError {
  return error instanceof AppError ? error : new AppError("internal_error", "the message could not be answered", { cause: error });
}

function asObject(details: unknown): Record<string, unknown> {
  return details !== null && typeof details === "object" && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
}
