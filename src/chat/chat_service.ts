import type { AuditLog } from "../audit/audit_event.js";
import { AppError } from "../errors/app_error.js";
import type { MemoryMessage } from "../memory/memory_message.js";
import { newSessionId } from "../memory/session_id.js";
import type { SessionMemory } from "../memory/session_memory.js";
import type { PluginExecution } from "../plugins/plugin_execution.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";
import { inputFromCommandText, parseRunCommand, replyText } from "./run_command.js";

export interface ChatRequest {
  readonly message: string;
  readonly sessionId?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ChatReply {
  readonly sessionId: string;
  readonly reply: string;
  readonly source: "plugin" | "llm";
  readonly plugin?: string;
  readonly result?: unknown;
  readonly runId?: string;
}

/**
 * The chat dispatcher: `/run <plugin> <input>` runs a plugin directly; anything else is for the
 * LLM. The user's message is remembered and audited before anything else happens, so that it is
 * kept even when the answer fails.
 */
export class ChatService {
  constructor(
    private readonly memory: SessionMemory,
    private readonly audit: AuditLog,
    private readonly runner: PluginRunner,
    private readonly execution: PluginExecution,
  ) {}

  async handle(request: ChatRequest): Promise<ChatReply> {
    const sessionId = request.sessionId ?? newSessionId();
    const userMessage: MemoryMessage = { role: "user", content: request.message, at: new Date().toISOString() };
    await Promise.all([
      this.memory.append(sessionId, userMessage),
      this.audit.append(sessionId, { type: "user_message", content: request.message }),
    ]);
    try {
      return await this.answer(sessionId, request);
    } catch (error) {
      const failure = error instanceof AppError ? error : new AppError("internal_error", "the message could not be answered", { cause: error });
      await this.audit.append(sessionId, { type: "reply", outcome: failure.code, errorMessage: failure.message });
      // A caller that did not send a session id still needs it to continue or to read the audit.
      throw new AppError(failure.code, failure.message, { details: { ...asObject(failure.details), sessionId }, cause: failure.cause });
    }
  }

  private async answer(sessionId: string, request: ChatRequest): Promise<ChatReply> {
    const command = parseRunCommand(request.message);
    if (!command) {
      throw new AppError("llm_unavailable", "no language model is configured; use /run <plugin> <input> to run a plugin");
    }
    const plugin = this.runner.resolve(command.plugin);
    const data = inputFromCommandText(plugin, command.inputText);
    const run = await this.execution.execute({ plugin: plugin.name, data, sessionId, signal: request.signal });
    const reply = replyText(plugin, run.result);
    await Promise.all([
      this.memory.append(sessionId, { role: "assistant", content: reply, plugin: run.plugin, at: new Date().toISOString() }),
      this.audit.append(sessionId, { type: "reply", content: reply, source: "plugin", plugin: run.plugin, runId: run.runId, outcome: "success" }),
    ]);
    return { sessionId, reply, source: "plugin", plugin: run.plugin, result: run.result, runId: run.runId };
  }
}

function asObject(details: unknown): Record<string, unknown> {
  return details !== null && typeof details === "object" && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
}
