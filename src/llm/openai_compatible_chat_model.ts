/**
 * The one ChatModel: OpenAI's chat completions API through the openai SDK, for both providers.
 *
 *   Azure OpenAI  AzureOpenAI client: POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…,
 *                 authenticated with a Microsoft Entra token (the Managed Identity in Azure) or, for
 *                 local use, the api-key header. Health check: GET {endpoint}/openai/models?api-version=…
 *                 ("Models - List"): the same endpoint and credentials as a completion, no tokens spent
 *                 (it does not prove that the deployment exists).
 *   Ollama        OpenAI client on Ollama's OpenAI-compatible API, {OLLAMA_BASE_URL}/v1: POST /v1/chat/completions.
 *                 Health check: GET /v1/models (no model is loaded).
 *
 * Streaming and tool calls go through the same code for both. Retries and timeouts are the SDK's
 * own (LLM_MAX_RETRIES, LLM_TIMEOUT_MS): 408, 409, 429, 5xx, timeouts and connection failures are
 * retried with backoff, Retry-After and retry-after-ms honoured; `timeout` bounds each attempt
 * until the answer starts (a non-streamed answer starts when it is complete). A streamed answer
 * is retried only before it starts, so nothing is said twice; once tokens flow, the caller's
 * signal (the chat deadline) is what bounds it. Every failure becomes "llm_unavailable" (see
 * llm_failure.ts).
 */
import { getBearerTokenProvider, type TokenCredential } from "@azure/identity";
import { AzureOpenAI, OpenAI } from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { LlmConfig } from "../config/config.js";
import { silentLogger, type Logger } from "../logging/logger.js";
import type { ChatModel, LlmMessage, LlmRequest, LlmResponse, LlmStreamEvent, LlmTool, LlmToolCall } from "./chat_model.js";
import { LlmCancelled, MalformedAnswer, llmUnavailable, untilAborted, type LlmProvider } from "./llm_failure.js";

export type AzureOpenAiLlmConfig = Extract<LlmConfig, { provider: "azure-openai" }>;
export type OllamaLlmConfig = Extract<LlmConfig, { provider: "ollama" }>;

/** The scope of Azure OpenAI (Cognitive Services) tokens. */
export const azureOpenAiScope = "https://cognitiveservices.azure.com/.default";

interface RawToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export class OpenAiCompatibleChatModel implements ChatModel {
  private constructor(
    readonly provider: LlmProvider,
    /** Ollama: the model's name; Azure OpenAI: the deployment's, which is what the requests address. */
    readonly model: string,
    private readonly client: OpenAI,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /** The key and the latest token sent, kept only to be kept out of error messages. */
    private readonly secrets: readonly (string | undefined)[] = [],
  ) {}

  /**
   * With `config.apiKey`, the key is sent and `credential` is not used; without it, `credential`
   * is required and a token for the Cognitive Services scope is sent as a bearer token.
   */
  static azureOpenAi(config: AzureOpenAiLlmConfig, credential: TokenCredential | undefined, logger: Logger = silentLogger): OpenAiCompatibleChatModel {
    if (!config.apiKey && !credential) throw new Error("Azure OpenAI needs either an API key or a credential");
    const secrets: (string | undefined)[] = [config.apiKey];
    const tokenProvider = config.apiKey ? undefined : getBearerTokenProvider(credential!, azureOpenAiScope);
    const client = new AzureOpenAI({
      // baseURL rather than endpoint, so that neither OPENAI_BASE_URL nor AZURE_OPENAI_ENDPOINT is read from the environment.
      baseURL: `${config.endpoint.replace(/\/+$/, "")}/openai`,
      deployment: config.deployment,
      apiVersion: config.apiVersion,
      ...(tokenProvider
        ? {
            azureADTokenProvider: async () => {
              const token = await tokenProvider();
              secrets[1] = token;
              return token;
            },
          }
        : { apiKey: config.apiKey }),
      ...sdkOptions(config),
    });
    return new OpenAiCompatibleChatModel("azure-openai", config.deployment, client, config.timeoutMs, logger, secrets);
  }

  static ollama(config: OllamaLlmConfig, logger: Logger = silentLogger): OpenAiCompatibleChatModel {
    const client = new OpenAI({
      baseURL: `${config.baseUrl.replace(/\/+$/, "")}/v1`,
      // Ollama ignores the key, but the SDK wants one (and would otherwise read OPENAI_API_KEY).
      apiKey: "ollama",
      ...sdkOptions(config),
    });
    return new OpenAiCompatibleChatModel("ollama", config.model, client, config.timeoutMs, logger);
  }

  async complete(request: LlmRequest): Promise<LlmResponse> {
    try {
      const completion = await untilAborted(
        this.client.chat.completions.create({ ...this.body(request), stream: false }, { signal: request.signal }),
        request.signal,
      );
      const message = (completion as { choices?: { message?: unknown }[] } | undefined)?.choices?.[0]?.message;
      if (typeof message !== "object" || message === null) throw new MalformedAnswer("no message");
      const { content, tool_calls } = message as { content?: unknown; tool_calls?: unknown };
      if (content !== undefined && content !== null && typeof content !== "string") throw new MalformedAnswer("content");
      return { content: content ?? "", toolCalls: toToolCalls(readToolCalls(tool_calls)) };
    } catch (error) {
      throw this.unavailable(error, request.signal);
    }
  }

  async *stream(request: LlmRequest): AsyncGenerator<LlmStreamEvent> {
    const signal = request.signal;
    let content = "";
    let finished = false;
    // Pieces of each call, by index: the first carries the id and the name, the arguments come in pieces.
    const pieces = new Map<number, { id: string; name: string; arguments: string }>();
    try {
      const stream = await untilAborted(this.client.chat.completions.create({ ...this.body(request), stream: true }, { signal }), signal);
      for await (const chunk of stream) {
        // Azure starts with a chunk of prompt_filter_results and no choices.
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const piece = choice.delta?.content;
        if (typeof piece === "string" && piece !== "") {
          content += piece;
          yield { type: "token", text: piece };
        }
        for (const delta of choice.delta?.tool_calls ?? []) {
          const call = pieces.get(delta.index) ?? { id: "", name: "", arguments: "" };
          if (delta.id) call.id = delta.id;
          if (delta.function?.name) call.name += delta.function.name;
          if (delta.function?.arguments) call.arguments += delta.function.arguments;
          pieces.set(delta.index, call);
        }
        if (choice.finish_reason) finished = true;
      }
      // The SDK ends the iteration quietly when the signal aborts it.
      if (signal?.aborted) throw new LlmCancelled();
      if (!finished) throw new MalformedAnswer("the answer ended early");
    } catch (error) {
      throw this.unavailable(error, signal);
    }
    const calls = [...pieces.entries()].sort(([a], [b]) => a - b).map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
    if (calls.some((call) => call.name === "")) throw this.unavailable(new MalformedAnswer("a tool call without a name"), signal);
    yield { type: "done", response: { content, toolCalls: toToolCalls(calls) } };
  }

  /** One attempt, no retries: a health check answers now or not at all. */
  async ping(signal?: AbortSignal): Promise<void> {
    try {
      await untilAborted(Promise.resolve(this.client.models.list({ signal, maxRetries: 0 })), signal);
    } catch (error) {
      throw this.unavailable(error, signal);
    }
  }

  private body(request: LlmRequest) {
    return {
      model: this.model,
      messages: request.messages.map(toWireMessage),
      // An empty tools array is refused.
      ...(request.tools.length > 0 ? { tools: request.tools.map(toWireTool) } : {}),
    };
  }

  private unavailable(error: unknown, signal: AbortSignal | undefined) {
    return llmUnavailable(error, { provider: this.provider, timeoutMs: this.timeoutMs, logger: this.logger, signal, secrets: this.secrets });
  }
}

/** Retries and timeouts by the SDK; nothing read from the environment, nothing logged by it (its lines carry URLs). */
function sdkOptions(config: { readonly maxRetries: number; readonly timeoutMs: number }) {
  return { maxRetries: config.maxRetries, timeout: config.timeoutMs, organization: null, project: null, logLevel: "off" as const };
}

function toWireTool(tool: LlmTool): ChatCompletionTool {
  return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

function toWireMessage(message: LlmMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
    case "user":
      return { role: message.role, content: message.content };
    case "assistant":
      if (!message.toolCalls || message.toolCalls.length === 0) return { role: "assistant", content: message.content };
      return {
        role: "assistant",
        content: message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: "function" as const,
          // Arguments that could not be read go back as {}; the tool result says what was wrong.
          function: { name: call.name, arguments: call.arguments === undefined ? "{}" : JSON.stringify(call.arguments) },
        })),
      };
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
}

function readToolCalls(value: unknown): RawToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MalformedAnswer("tool_calls");
  return value
    .filter((call: { type?: unknown }) => call?.type === undefined || call.type === "function")
    .map((call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }, index) => {
      const { id, function: fn } = call;
      if (typeof fn?.name !== "string" || fn.name === "") throw new MalformedAnswer("a tool call without a name");
      return { id: typeof id === "string" && id !== "" ? id : `call_${index}`, name: fn.name, arguments: typeof fn.arguments === "string" ? fn.arguments : "" };
    });
}

function toToolCalls(calls: readonly RawToolCall[]): LlmToolCall[] {
  return calls.map((call) => ({ id: call.id, name: call.name, ...parseToolArguments(call.arguments) }));
}

/**
 * Parses tool-call arguments sent as a JSON string. An empty string (a call without parameters,
 * as some models send it) counts as {}.
 */
export function parseToolArguments(text: string): { arguments: unknown; argumentsError?: string } {
  if (text.trim() === "") return { arguments: {} };
  try {
    return { arguments: JSON.parse(text) as unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : "not valid JSON";
    return { arguments: undefined, argumentsError: reason.length > 200 ? `${reason.slice(0, 200)}…` : reason };
  }
}
