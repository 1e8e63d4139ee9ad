/**
 * ChatModel over Azure OpenAI chat completions, through the openai package's AzureOpenAI client:
 *   POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…
 * authenticated with the `api-key` header (AZURE_OPENAI_API_KEY, for local use) or with a
 * Microsoft Entra token from the given TokenCredential (the Managed Identity in Azure).
 *
 * Retries: the SDK's own are off (maxRetries: 0); llm_retry.ts runs them, the same way as for
 * Ollama (Retry-After and retry-after-ms honoured, nothing retried once tokens were streamed),
 * and gives each attempt one abort signal that combines the request's signal and the timeout.
 *
 * Health check: GET {endpoint}/openai/models?api-version=… ("Models - List"), which needs the
 * same endpoint and the same credentials as a chat completion, but spends no tokens. It does not
 * prove that the deployment exists.
 */
import { getBearerTokenProvider, type TokenCredential } from "@azure/identity";
import { APIConnectionError, APIConnectionTimeoutError, APIError, AzureOpenAI, OpenAIError } from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { LlmConfig } from "../config/config.js";
import type { ChatModel, LlmMessage, LlmRequest, LlmResponse, LlmStreamEvent, LlmTool, LlmToolCall } from "./chat_model.js";
import {
  LlmCaller,
  LlmFailure,
  connectionFailure,
  httpFailure,
  parseToolArguments,
  safeUpstreamMessage,
  type AttemptContext,
  type ChatModelOptions,
} from "./llm_retry.js";

export type AzureOpenAiLlmConfig = Extract<LlmConfig, { provider: "azure-openai" }>;

/** The scope of Azure OpenAI (Cognitive Services) tokens. */
export const azureOpenAiScope = "https://cognitiveservices.azure.com/.default";

interface RawToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export class AzureOpenAiChatModel implements ChatModel {
  readonly provider = "azure-openai" as const;
  /** The deployment's name: what the requests address. */
  readonly model: string;
  private readonly client: AzureOpenAI;
  private readonly caller: LlmCaller;
  private readonly timeoutMs: number;
  private readonly apiKey: string | undefined;
  /** The last bearer token sent, kept only to be kept out of error messages. */
  private lastToken: string | undefined;

  /**
   * With `config.apiKey`, the key is sent and `credential` is not used; without it, `credential`
   * is required and a token for the Cognitive Services scope is sent as a bearer token.
   */
  constructor(config: AzureOpenAiLlmConfig, credential: TokenCredential | undefined, options: ChatModelOptions = {}) {
    this.model = config.deployment;
    this.timeoutMs = config.timeoutMs;
    this.apiKey = config.apiKey;
    if (!config.apiKey && !credential) throw new Error("Azure OpenAI needs either an API key or a credential");
    const auth = config.apiKey
      ? { apiKey: config.apiKey }
      : // The empty key keeps the SDK from reading AZURE_OPENAI_API_KEY itself: the configuration has decided.
        { apiKey: "", azureADTokenProvider: this.rememberingToken(getBearerTokenProvider(credential!, azureOpenAiScope)) };
    this.client = new AzureOpenAI({
      // baseURL rather than endpoint, so that neither OPENAI_BASE_URL nor AZURE_OPENAI_ENDPOINT is read from the environment.
      baseURL: `${config.endpoint.replace(/\/+$/, "")}/openai`,
      deployment: config.deployment,
      apiVersion: config.apiVersion,
      ...auth,
      maxRetries: 0,
      timeout: config.timeoutMs,
      logLevel: "off",
    });
    this.caller = new LlmCaller({
      provider: this.provider,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      logger: options.logger,
      backoff: options.backoff,
    });
  }

  complete(request: LlmRequest): Promise<LlmResponse> {
    return this.caller.call(
      request.signal,
      async (context) => {
        const completion: unknown = await this.client.chat.completions.create(
          { ...this.body(request), stream: false },
          this.requestOptions(context),
        );
        const message = (completion as { choices?: { message?: unknown }[] } | undefined)?.choices?.[0]?.message;
        if (typeof message !== "object" || message === null) throw LlmFailure.final("malformed response: no message");
        const { content, tool_calls } = message as { content?: unknown; tool_calls?: unknown };
        if (content !== undefined && content !== null && typeof content !== "string") throw LlmFailure.final("malformed response: content");
        return { content: content ?? "", toolCalls: toToolCalls(readToolCalls(tool_calls)) };
      },
      this.classify,
    );
  }

  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    return this.caller.stream(request.signal, (context) => this.streamAttempt(request, context), this.classify);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.caller.once(signal, (context) => this.client.models.list(this.requestOptions(context)), this.classify);
  }

  private async *streamAttempt(request: LlmRequest, context: AttemptContext): AsyncGenerator<LlmStreamEvent> {
    const stream = await this.client.chat.completions.create({ ...this.body(request), stream: true }, this.requestOptions(context));
    let content = "";
    let finished = false;
    // Pieces of each call, by index: the first carries the id and the name.
    const pieces = new Map<number, { id: string; name: string; arguments: string }>();
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
    // The SDK ends the iteration quietly when the request is aborted; llm_retry tells an abort from this.
    if (!finished) throw LlmFailure.retryable("the answer ended early");
    const calls = [...pieces.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    if (calls.some((call) => call.id === "" || call.name === "")) throw LlmFailure.final("malformed response: a tool call without id or name");
    yield { type: "done", response: { content, toolCalls: toToolCalls(calls) } };
  }

  private body(request: LlmRequest) {
    return {
      model: this.model,
      messages: request.messages.map(toAzureMessage),
      // An empty tools array is refused.
      ...(request.tools.length > 0 ? { tools: request.tools.map(toAzureTool) } : {}),
    };
  }

  private rememberingToken(provider: () => Promise<string>): () => Promise<string> {
    return async () => {
      const token = await provider();
      this.lastToken = token;
      return token;
    };
  }

  private requestOptions(context: AttemptContext) {
    return { signal: context.signal, maxRetries: 0, timeout: this.timeoutMs };
  }

  private readonly classify = (error: unknown): LlmFailure => {
    if (error instanceof APIError && typeof error.status === "number") {
      return httpFailure(error.status, error.headers, safeUpstreamMessage(upstreamMessage(error), [this.apiKey, this.lastToken]));
    }
    if (error instanceof APIConnectionTimeoutError) return LlmFailure.retryable(`timed out after ${this.timeoutMs} ms`);
    if (error instanceof APIConnectionError) return connectionFailure(error.cause) ?? LlmFailure.retryable("connection failed");
    // An error event in the middle of a stream.
    if (error instanceof APIError) return LlmFailure.retryable("the model reported an error");
    // The token provider failed (its message may name the identity endpoint: not repeated).
    if (error instanceof OpenAIError && /token|apiKey/i.test(error.message)) return LlmFailure.final("could not get an access token");
    if (error instanceof SyntaxError) return LlmFailure.final("malformed response: not JSON");
    return connectionFailure(error) ?? LlmFailure.final("unexpected error");
  };
}

function toAzureTool(tool: LlmTool): ChatCompletionTool {
  return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

function toAzureMessage(message: LlmMessage): ChatCompletionMessageParam {
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
  if (!Array.isArray(value)) throw LlmFailure.final("malformed response: tool_calls");
  return value
    .filter((call: { type?: unknown }) => call?.type === undefined || call.type === "function")
    .map((call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => {
      const { id, function: fn } = call;
      if (typeof id !== "string" || typeof fn?.name !== "string") throw LlmFailure.final("malformed response: a tool call without id or name");
      return { id, name: fn.name, arguments: typeof fn.arguments === "string" ? fn.arguments : "" };
    });
}

function toToolCalls(calls: readonly RawToolCall[]): LlmToolCall[] {
  return calls.map((call) => ({ id: call.id, name: call.name, ...parseToolArguments(call.arguments) }));
}

function upstreamMessage(error: APIError): string | undefined {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === "string" ? body.message : undefined;
}
