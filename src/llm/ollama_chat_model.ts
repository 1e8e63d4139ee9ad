/**
 * ChatModel over Ollama's HTTP API, with fetch:
 *   POST {baseUrl}/api/chat   {model, messages, tools?, stream}   (NDJSON lines when streamed)
 *   GET  {baseUrl}/api/tags   the health check: the server answers (no model is loaded, no token spent)
 * Tool calls arrive whole, with arguments as a JSON object (a JSON string is tolerated) and no id:
 * ids are made up per response, call_0, call_1… (an id Ollama does send is kept).
 * Timeouts, retries and errors: see llm_retry.ts.
 */
import { z } from "zod";
import type { LlmConfig } from "../config/config.js";
import type { ChatModel, LlmMessage, LlmRequest, LlmResponse, LlmStreamEvent, LlmTool, LlmToolCall } from "./chat_model.js";
import {
  LlmCaller,
  LlmFailure,
  connectionFailure,
  httpFailure,
  parseToolArguments,
  safeUpstreamMessage,
  upstreamErrorText,
  type AttemptContext,
  type ChatModelOptions,
} from "./llm_retry.js";

export type OllamaLlmConfig = Extract<LlmConfig, { provider: "ollama" }>;

const toolCallSchema = z.object({
  id: z.string().optional(),
  function: z.object({ name: z.string(), arguments: z.unknown() }),
});

const messageSchema = z.object({
  content: z.string().nullish(),
  tool_calls: z.array(toolCallSchema).nullish(),
});

const chatResponseSchema = z.object({ message: messageSchema, done: z.boolean().optional() });

const streamLineSchema = z.object({
  message: messageSchema.optional(),
  done: z.boolean().optional(),
  error: z.string().optional(),
});

type OllamaToolCall = z.infer<typeof toolCallSchema>;

export class OllamaChatModel implements ChatModel {
  readonly provider = "ollama" as const;
  readonly model: string;
  private readonly baseUrl: string;
  private readonly caller: LlmCaller;

  constructor(config: OllamaLlmConfig, options: ChatModelOptions = {}) {
    this.model = config.model;
    this.baseUrl = config.baseUrl.replace(/\/+$/, "");
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
        const response = await this.post(request, false, context);
        const text = await response.text();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw LlmFailure.final("malformed response: not JSON");
        }
        const parsed = chatResponseSchema.safeParse(json);
        if (!parsed.success) {
          const error = safeUpstreamMessage(upstreamErrorText(json));
          throw error ? LlmFailure.retryable(`the model reported an error: ${error}`) : LlmFailure.final("malformed response: no message");
        }
        return { content: parsed.data.message.content ?? "", toolCalls: toToolCalls(parsed.data.message.tool_calls ?? []) };
      },
      classify,
    );
  }

  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    return this.caller.stream(request.signal, (context) => this.streamAttempt(request, context), classify);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.caller.once(
      signal,
      async (context) => {
        const response = await fetch(`${this.baseUrl}/api/tags`, { signal: context.signal });
        if (!response.ok) throw await failureOf(response);
        await response.body?.cancel();
      },
      classify,
    );
  }

  private async *streamAttempt(request: LlmRequest, context: AttemptContext): AsyncGenerator<LlmStreamEvent> {
    const response = await this.post(request, true, context);
    if (!response.body) throw LlmFailure.final("malformed response: no body");
    let content = "";
    const calls: OllamaToolCall[] = [];
    for await (const line of ndjsonLines(response.body)) {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw LlmFailure.final("malformed response: a line is not JSON");
      }
      const parsed = streamLineSchema.safeParse(json);
      if (!parsed.success) throw LlmFailure.final("malformed response: unexpected line");
      const chunk = parsed.data;
      if (chunk.error !== undefined) {
        throw LlmFailure.retryable(`the model reported an error: ${safeUpstreamMessage(chunk.error) ?? "unknown"}`);
      }
      const piece = chunk.message?.content ?? "";
      if (piece !== "") {
        content += piece;
        yield { type: "token", text: piece };
      }
      calls.push(...(chunk.message?.tool_calls ?? []));
      if (chunk.done) {
        yield { type: "done", response: { content, toolCalls: toToolCalls(calls) } };
        return;
      }
    }
    throw LlmFailure.retryable("the answer ended early");
  }

  private async post(request: LlmRequest, stream: boolean, context: AttemptContext): Promise<Response> {
    const body = {
      model: this.model,
      messages: request.messages.map(toOllamaMessage),
      // Models without tool support refuse any tools field, even an empty one.
      ...(request.tools.length > 0 ? { tools: request.tools.map(toOllamaTool) } : {}),
      stream,
    };
    const response = await fetch(`${this.baseUrl}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: stream ? "application/x-ndjson" : "application/json" },
      body: JSON.stringify(body),
      signal: context.signal,
    });
    if (!response.ok) throw await failureOf(response);
    return response;
  }
}

function toOllamaTool(tool: LlmTool): unknown {
  return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

function toOllamaMessage(message: LlmMessage): unknown {
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
          // Ollama wants an object: arguments that could not be read go back as {}.
          function: { name: call.name, arguments: isPlainObject(call.arguments) ? call.arguments : {} },
        })),
      };
    case "tool":
      return { role: "tool", tool_name: message.name, content: message.content };
  }
}

function toToolCalls(calls: readonly OllamaToolCall[]): LlmToolCall[] {
  return calls.map((call, index) => {
    const id = call.id && call.id !== "" ? call.id : `call_${index}`;
    const raw = call.function.arguments;
    if (typeof raw === "string") return { id, name: call.function.name, ...parseToolArguments(raw) };
    return { id, name: call.function.name, arguments: raw ?? {} };
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function failureOf(response: Response): Promise<LlmFailure> {
  let text: string | undefined;
  try {
    text = await response.text();
  } catch {
    text = undefined;
  }
  let message: string | undefined;
  try {
    message = upstreamErrorText(JSON.parse(text ?? ""));
  } catch {
    message = undefined;
  }
  return httpFailure(response.status, response.headers, safeUpstreamMessage(message));
}

function classify(error: unknown): LlmFailure {
  return connectionFailure(error) ?? LlmFailure.final("unexpected error");
}

/** The lines of an NDJSON body, empty ones skipped; a last line without a newline counts too. */
async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line !== "") yield line;
        newline = buffer.indexOf("\n");
      }
    }
    if (buffer.trim() !== "") yield buffer.trim();
  } finally {
    await reader.cancel().catch(() => {});
  }
}
