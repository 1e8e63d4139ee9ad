import type { AuditEvent, AuditLog } from "../audit/audit_event.js";
import type { TurnRecord } from "../audit/turn_record.js";
import type { Caller } from "../auth/caller.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import { AppError } from "../errors/app_error.js";
import { errorCodes } from "../errors/error_codes.js";
import type { ChatModel, LlmMessage, LlmResponse, LlmTool, LlmToolCall } from "../llm/chat_model.js";
import { sessionRef } from "../memory/session_ref.js";
import type { RunLineage } from "../plugins/plugin.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";
import type { PluginRegistry } from "../plugins/plugin_registry.js";
import type { ChatEvent } from "./chat_events.js";
import { awaitingApprovalText, isAwaitingApproval, type AwaitingApproval } from "../approvals/approval_request.js";

export interface ConversationLimits {
  readonly systemPrompt: string;
  readonly maxToolSteps: number;
}

export interface ConversationInput {
  /** The session's earlier messages, already bounded (see historyForModel). */
  readonly history: readonly LlmMessage[];
  readonly message: string;
  /** Whose conversation it is: the tools offered are the ones this caller may run on the llm channel. */
  readonly caller: Caller;
  readonly sessionId: string | undefined;
  /**
   * The runs the conversation is part of (the agent's run and those it is nested in): their
   * plugins are not offered, and the runs the conversation starts are nested in them.
   */
  readonly lineage?: RunLineage | undefined;
  readonly stream: boolean;
  readonly signal?: AbortSignal | undefined;
  /** The turn the conversation is part of: its tool calls and runs are recorded into it and written with it. */
  readonly turn?: TurnRecord | undefined;
}

export interface ConversationOutcome {
  readonly reply: string;
  readonly toolCalls: number;
}

// A tool result longer than this is cut before it goes back to the model.
const maxToolResultChars = 8000;

/**
 * The LLM and tool loop ("tool-based dispatch"): every plugin is offered as a tool with its JSON
 * Schema; each call runs through the same execution path as /run (validation, timeout, limits,
 * audit), its result goes back to the model, and the loop repeats up to the step limit. A call
 * of a tool that was not offered (unknown, refused by the policy, disabled, or a plugin of the
 * runs the conversation is part of) runs nothing; it and a call with invalid arguments are
 * answered to the model as tool errors, so it can correct itself. Each call is recorded in the turn's audit record, so the timeline shows
 * why the answer is what it is.
 */
export class Conversation {
  constructor(
    private readonly model: ChatModel,
    private readonly registry: PluginRegistry,
    private readonly policy: PluginPolicy,
    private readonly runner: PluginRunner,
    private readonly audit: AuditLog,
    private readonly limits: ConversationLimits,
  ) {}

  /** The whole loop without its events: for callers that want only the answer (the agent). */
  async answer(input: Omit<ConversationInput, "stream">): Promise<ConversationOutcome> {
    const turns = this.run({ ...input, stream: false });
    for (;;) {
      const next = await turns.next();
      if (next.done) return next.value;
    }
  }

  async *run(input: ConversationInput): AsyncGenerator<ChatEvent, ConversationOutcome> {
    const tools = this.tools(input.caller, input.lineage ?? []);
    const messages: LlmMessage[] = [
      ...(this.limits.systemPrompt ? [{ role: "system" as const, content: this.limits.systemPrompt }] : []),
      ...input.history,
      { role: "user", content: input.message },
    ];
    let toolCalls = 0;
    for (let step = 0; ; step++) {
      const response = yield* this.turn({ messages, tools, signal: input.signal }, input.stream);
      if (response.toolCalls.length === 0) return { reply: response.content, toolCalls };
      if (step >= this.limits.maxToolSteps) {
        throw new AppError("llm_step_limit", `the model was still calling tools after ${this.limits.maxToolSteps} steps`, {
          details: { maxToolSteps: this.limits.maxToolSteps },
        });
      }
      messages.push({ role: "assistant", content: response.content, toolCalls: response.toolCalls });
      for (const call of response.toolCalls) {
        toolCalls++;
        yield { type: "tool_call", id: call.id, name: call.name, arguments: call.arguments };
        const answer = await this.callTool(call, tools, input);
        yield { type: "tool_result", id: call.id, name: call.name, ...answer.event };
        if (answer.approval) yield { type: "awaiting_approval", ...answer.approval };
        messages.push({ role: "tool", toolCallId: call.id, name: call.name, content: answer.content });
      }
    }
  }

  private async *turn(
    request: { messages: LlmMessage[]; tools: LlmTool[]; signal: AbortSignal | undefined },
    stream: boolean,
  ): AsyncGenerator<ChatEvent, LlmResponse> {
    if (!stream) return await this.model.complete(request);
    for await (const event of this.model.stream(request)) {
      if (event.type === "token") yield { type: "token", text: event.text };
      else return event.response;
    }
    throw new AppError("llm_unavailable", "the language model ended its answer without finishing it");
  }

  /**
   * The plugins this caller may run on the llm channel and that are enabled, but none of the runs
   * the conversation is part of (so that a model cannot make a run start itself again).
   */
  private tools(caller: Caller, excluded: RunLineage): LlmTool[] {
    return this.registry
      .describe()
      .filter((described) => {
        const plugin = this.registry.resolve(described.name);
        return (
          plugin !== undefined && !excluded.includes(described.name) && this.policy.allows(caller, plugin, "llm") && plugin.disabledReason?.() === undefined
        );
      })
      .map((plugin) => ({ name: plugin.name, description: plugin.description, parameters: plugin.inputSchema }));
  }

  /** Runs one tool call; never throws for the model's mistakes, which are answered as tool errors. */
  private async callTool(
    call: LlmToolCall,
    offered: readonly LlmTool[],
    input: Pick<ConversationInput, "caller" | "sessionId" | "signal" | "turn" | "lineage">,
  ): Promise<{ content: string; event: { outcome: string; result?: unknown; error?: string }; approval?: AwaitingApproval }> {
    const { caller, sessionId, signal, turn, lineage } = input;
    // Into the turn's record; only a conversation outside any turn (none today) would write its entries one by one.
    const record = async (event: AuditEvent) => {
      if (turn) turn.record(event);
      else if (sessionId) await this.audit.append(sessionRef(caller, sessionId), event);
    };
    const refuse = async (code: string, message: string) => {
      await record({ type: "tool_call", plugin: call.name, input: call.arguments, outcome: code, errorMessage: message });
      return { content: `error (${code}): ${message}`, event: { outcome: code, error: message } };
    };
    if (call.argumentsError !== undefined) return refuse("invalid_input", `the arguments are not valid JSON: ${call.argumentsError}`);
    if (!offered.some((tool) => tool.name === call.name)) {
      // Whatever the policy would allow, only what was offered runs; and the model learns nothing of the other plugins.
      const available = offered.map((tool) => tool.name).join(", ") || "none";
      return refuse("plugin_not_found", `there is no tool named "${call.name}"; the tools are: ${available}`);
    }
    await record({ type: "tool_call", plugin: call.name, input: call.arguments });
    try {
      const run = await this.runner.execute({ caller, channel: "llm", plugin: call.name, data: call.arguments ?? {}, sessionId, signal, turn, lineage });
      if (isAwaitingApproval(run)) {
        // Not an error: the model is told what happened, and the turn goes on.
        return { content: JSON.stringify({ ...run, note: awaitingApprovalText(run) }), event: { outcome: run.state, result: run }, approval: run };
      }
      return { content: cut(JSON.stringify(run.result)), event: { outcome: "success", result: run.result } };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // Platform failures end the conversation; what the model can fix goes back to it.
      if (errorCodes[error.code].endsConversation) throw error;
      const detail = error.details === undefined ? "" : ` ${cut(JSON.stringify(error.details), 2000)}`;
      return { content: `error (${error.code}): ${error.message}${detail}`, event: { outcome: error.code, error: error.message } };
    }
  }
}

function cut(text: string, max = maxToolResultChars): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[cut at ${max} characters]`;
}
