/**
 * The one small interface between chat and a language model. Two providers implement it:
 * Ollama (locally) and Azure OpenAI (in the cloud); the conversation loop knows neither.
 */

/** A plugin offered to the model as a tool; `parameters` is the plugin's JSON Schema. */
export interface LlmTool {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

export interface LlmToolCall {
  /** The provider's call id (Azure OpenAI), or one made up in order (Ollama sends none). */
  readonly id: string;
  readonly name: string;
  /** Parsed arguments; undefined when they were not valid JSON (see argumentsError). */
  readonly arguments: unknown;
  /** Why the arguments could not be read, to be told back to the model so it can correct its call. */
  readonly argumentsError?: string;
}

export type LlmMessage =
  | { readonly role: "system" | "user"; readonly content: string }
  | { readonly role: "assistant"; readonly content: string; readonly toolCalls?: readonly LlmToolCall[] }
  | { readonly role: "tool"; readonly toolCallId: string; readonly name: string; readonly content: string };

export interface LlmRequest {
  readonly messages: readonly LlmMessage[];
  readonly tools: readonly LlmTool[];
  readonly signal?: AbortSignal | undefined;
}

export interface LlmResponse {
  readonly content: string;
  readonly toolCalls: readonly LlmToolCall[];
}

export type LlmStreamEvent = { readonly type: "token"; readonly text: string } | { readonly type: "done"; readonly response: LlmResponse };

export interface ChatModel {
  readonly provider: "ollama" | "azure-openai";
  readonly model: string;
  /**
   * One model turn. Fails with AppError "llm_unavailable" when the model cannot be reached,
   * keeps failing after retries, or does not answer in time.
   */
  complete(request: LlmRequest): Promise<LlmResponse>;
  /** The same turn streamed: tokens as they come, then the whole response. */
  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent>;
  /** Throws when the model's service cannot be reached; used by the health check. */
  ping(signal?: AbortSignal): Promise<void>;
}
