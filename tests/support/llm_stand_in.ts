/**
 * THE stand-in language model of this project's tests: one node:http server on 127.0.0.1 that
 * speaks OpenAI's chat completions wire format on the two routes the application uses.
 *
 *   Azure OpenAI   POST /openai/deployments/{deployment}/chat/completions?api-version=…
 *                  GET  /openai/models?api-version=…            (health check)
 *   Ollama         POST /v1/chat/completions                    (Ollama's OpenAI-compatible API)
 *                  GET  /v1/models                              (health check)
 *
 * Streamed answers (`stream: true`) are SSE `data: {...}` chunks ending with `data: [DONE]`.
 * Point the app at it with OLLAMA_BASE_URL=<url>, or AZURE_OPENAI_ENDPOINT=<url> (any deployment
 * name; the api-version query parameter and an `api-key` header or a bearer token are required,
 * as in Azure).
 *
 * It is as strict as the service it stands for: every chat request is validated as OpenAI
 * validates it (see openai_request_rules.ts) and refused with OpenAI's 400 body when it breaks a
 * rule, before any scripted reply is used. A lenient stand-in once hid a tool schema that Azure
 * OpenAI refuses on every message.
 *
 * Each accepted chat request takes the next scripted reply (see `reply`); once the script is used
 * up, the fallback answers (by default a text that quotes the last user message). Health checks
 * have their own script (`scriptPing`) and otherwise answer 200. Every request is recorded, with
 * the refusal when there was one.
 *
 *   const llm = useLlmStandIn(); // at the top of a test file: one stand-in for its tests
 *   it("...", async () => {
 *     llm.script(
 *       reply.toolCall("calculator", { expression: "6*7" }),
 *       (request) => reply.text(`the tool said ${request.toolResults[0]?.content}`),
 *     );
 *     // ... run the chat against llm.url ...
 *     expect(llm.chatRequests[1]?.toolResults[0]?.content).toContain("42");
 *   });
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startLoopbackServer, stopLoopbackServer } from "./loopback_server.js";
import { chatRequestRefusal, type OpenAiErrorBody } from "./openai_request_rules.js";

type LlmApi = "ollama" | "azure-openai";

/** A message as the application sent it. */
interface StandInMessage {
  readonly role: string;
  readonly content?: string | null;
  /** The call a tool result answers. */
  readonly tool_call_id?: string;
  readonly tool_calls?: readonly { readonly id?: string; readonly type?: string; readonly function: { readonly name: string; readonly arguments: unknown } }[];
  readonly [key: string]: unknown;
}

interface StandInRequestBody {
  readonly model?: string;
  readonly messages?: readonly StandInMessage[];
  readonly tools?: readonly {
    readonly type: string;
    readonly function: { readonly name: string; readonly description?: string; readonly parameters?: unknown };
  }[];
  readonly stream?: boolean;
  readonly [key: string]: unknown;
}

export interface RecordedLlmRequest {
  /** Which wire format the route belongs to; "unknown" for a route the stand-in does not serve. */
  readonly api: LlmApi | "unknown";
  /** "chat" for a completion, "ping" for a health check. */
  readonly kind: "chat" | "ping" | "other";
  readonly method: string;
  /** Without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-cased names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  readonly authorization: string | undefined;
  /** The `api-key` header (Azure OpenAI with a key). */
  readonly apiKey: string | undefined;
  /** Azure: the deployment named in the path, and the api-version query parameter. */
  readonly deployment: string | undefined;
  readonly apiVersion: string | undefined;
  readonly rawBody: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly body: StandInRequestBody | undefined;
  /** Whether the answer is streamed (`stream: true`). */
  readonly stream: boolean;
  /** body.messages, or []. */
  readonly messages: readonly StandInMessage[];
  /** The names of the tools offered. */
  readonly toolNames: readonly string[];
  /** Every tool result in the conversation. */
  readonly toolResults: readonly { readonly content: string; readonly toolCallId?: string }[];
  readonly lastUserMessage: string | undefined;
  /** performance.now() when the request arrived. */
  readonly receivedAt: number;
  /** True once the client went away before the reply was complete. */
  aborted: boolean;
  /** The error the stand-in answered instead of a completion because the request broke a rule of the API. */
  refusal?: { readonly status: number; readonly body: OpenAiErrorBody };
}

export interface ToolCallSpec {
  readonly name: string;
  /** Sent as its JSON text. Defaults to {}. */
  readonly arguments?: unknown;
  /** Sent as the arguments text instead of `arguments` (may be invalid JSON). */
  readonly rawArguments?: string;
  /** The call's id (default call_<n>). */
  readonly id?: string;
}

export type StandInReply =
  | {
      readonly kind: "text";
      readonly text: string;
      /** The pieces a streamed answer is sent in; by default one per word. */
      readonly chunks?: readonly string[];
      /** Waits this long before each streamed piece. */
      readonly chunkDelayMs?: number;
      /** Drops the connection after this many pieces (streamed), or halfway through the body (not streamed). */
      readonly dropAfterChunks?: number;
    }
  | {
      readonly kind: "tool_calls";
      readonly calls: readonly ToolCallSpec[];
      /** Text said before the calls. */
      readonly text?: string;
      /** Streamed: each call's arguments are sent in this many pieces (default 3). */
      readonly argumentPieces?: number;
    }
  | { readonly kind: "error"; readonly status: number; readonly retryAfter?: string; readonly message?: string }
  | { readonly kind: "raw"; readonly status: number; readonly body: string; readonly contentType: string }
  | { readonly kind: "delay"; readonly ms: number; readonly then: StandInReply }
  | { readonly kind: "drop" }
  | { readonly kind: "compute"; readonly compute: ReplyFunction };

export type ReplyFunction = (request: RecordedLlmRequest) => StandInReply | Promise<StandInReply>;

/** Builds replies for `script`, `answerEveryRequestWith` and `scriptPing`. */
export const reply = {
  /** A text answer; streamed as several pieces when the request asks for streaming. */
  text: (text: string, options: { chunks?: readonly string[]; chunkDelayMs?: number; dropAfterChunks?: number } = {}): StandInReply => ({
    kind: "text",
    text,
    ...options,
  }),
  /** One tool call; `args` is an object, or with `{ raw: true }` the exact arguments text. */
  toolCall: (name: string, args: unknown = {}, options: { id?: string; raw?: boolean; text?: string; argumentPieces?: number } = {}): StandInReply => ({
    kind: "tool_calls",
    calls: [{ name, ...(options.raw ? { rawArguments: String(args) } : { arguments: args }), ...(options.id ? { id: options.id } : {}) }],
    ...(options.text === undefined ? {} : { text: options.text }),
    ...(options.argumentPieces === undefined ? {} : { argumentPieces: options.argumentPieces }),
  }),
  /** Several tool calls in one answer. */
  toolCalls: (calls: readonly ToolCallSpec[], options: { text?: string; argumentPieces?: number } = {}): StandInReply => ({
    kind: "tool_calls",
    calls,
    ...options,
  }),
  /** An HTTP error in the provider's format; `retryAfter` (seconds, or an HTTP date) becomes Retry-After. */
  error: (status: number, options: { retryAfter?: string | number; message?: string } = {}): StandInReply => ({
    kind: "error",
    status,
    ...(options.retryAfter === undefined ? {} : { retryAfter: String(options.retryAfter) }),
    ...(options.message === undefined ? {} : { message: options.message }),
  }),
  rateLimited: (retryAfterSeconds: number | string = 1): StandInReply => reply.error(429, { retryAfter: retryAfterSeconds }),
  serverError: (status = 500): StandInReply => reply.error(status),
  /** Exactly this body, whatever the request asked for: for answers the client cannot read. */
  raw: (body: string, options: { status?: number; contentType?: string } = {}): StandInReply => ({
    kind: "raw",
    body,
    status: options.status ?? 200,
    contentType: options.contentType ?? "application/json",
  }),
  /** Waits, then answers with `then` (by default a text): to hit timeouts. */
  delay: (ms: number, then: StandInReply = reply.text("a late answer")): StandInReply => ({ kind: "delay", ms, then }),
  /** Closes the connection without answering. */
  drop: (): StandInReply => ({ kind: "drop" }),
  /** The reply is computed from the request (for example from the tool results it carries). */
  compute: (compute: ReplyFunction): StandInReply => ({ kind: "compute", compute }),
} as const;

const defaultFallback: StandInReply = reply.compute((request) => reply.text(`stand-in reply to: ${request.lastUserMessage ?? ""}`));

export class LlmStandIn {
  readonly requests: RecordedLlmRequest[] = [];
  private readonly scripted: StandInReply[] = [];
  private readonly pingScripted: StandInReply[] = [];
  private fallback: StandInReply = defaultFallback;
  private readonly timers = new Set<NodeJS.Timeout>();
  private callCounter = 0;

  private constructor(
    private readonly server: Server,
    /** http://127.0.0.1:<port>: the Ollama base URL and the Azure OpenAI endpoint. */
    readonly url: string,
  ) {}

  static async start(): Promise<LlmStandIn> {
    let standIn: LlmStandIn | undefined;
    const { server, url } = await startLoopbackServer((req, res) => standIn!.handle(req, res));
    standIn = new LlmStandIn(server, url);
    return standIn;
  }

  /** The next chat requests get these replies, in order; a function computes its reply from the request. */
  script(...replies: (StandInReply | ReplyFunction)[]): this {
    this.scripted.push(...replies.map((r) => (typeof r === "function" ? reply.compute(r) : r)));
    return this;
  }

  /** The next health checks get these replies (error, raw, delay and drop; anything else answers 200). */
  scriptPing(...replies: StandInReply[]): this {
    this.pingScripted.push(...replies);
    return this;
  }

  /** What every chat request gets once the script is used up. */
  answerEveryRequestWith(fallback: StandInReply | ReplyFunction): this {
    this.fallback = typeof fallback === "function" ? reply.compute(fallback) : fallback;
    return this;
  }

  /** Scripted chat replies not used yet. */
  get remaining(): number {
    return this.scripted.length;
  }

  /** The chat requests only (no health checks). */
  get chatRequests(): readonly RecordedLlmRequest[] {
    return this.requests.filter((r) => r.kind === "chat");
  }

  /** The requests refused because they broke a rule of the API. */
  get refusedRequests(): readonly RecordedLlmRequest[] {
    return this.requests.filter((r) => r.refusal !== undefined);
  }

  get lastRequest(): RecordedLlmRequest | undefined {
    return this.requests.at(-1);
  }

  /** Resolves once `count` requests have arrived (useful when the client gives up before the answer). */
  async waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (this.requests.length < count) {
      if (performance.now() > until) throw new Error(`the LLM stand-in got ${this.requests.length} requests, not ${count}, within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Forgets the scripts, the fallback and the recorded requests. */
  reset(): void {
    this.scripted.length = 0;
    this.pingScripted.length = 0;
    this.fallback = defaultFallback;
    this.requests.length = 0;
    this.callCounter = 0;
  }

  close(): Promise<void> {
    return stopLoopbackServer(this.server, this.timers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://stand-in");
    const method = req.method ?? "";
    const route = routeOf(method, url.pathname);
    const body = parseBody(rawBody);
    const messages = Array.isArray(body?.messages) ? body.messages : [];
    const record: RecordedLlmRequest = {
      api: route.api,
      kind: route.kind,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      authorization: req.headers.authorization,
      apiKey: single(req.headers["api-key"]),
      deployment: route.deployment,
      apiVersion: url.searchParams.get("api-version") ?? undefined,
      rawBody,
      body,
      stream: body?.stream === true,
      messages,
      toolNames: (body?.tools ?? []).map((t) => t.function?.name).filter((n): n is string => typeof n === "string"),
      toolResults: messages
        .filter((m) => m.role === "tool")
        .map((m) => ({
          content: typeof m.content === "string" ? m.content : "",
          ...(m.tool_call_id === undefined ? {} : { toolCallId: m.tool_call_id }),
        })),
      lastUserMessage: messages.filter((m) => m.role === "user").at(-1)?.content ?? undefined,
      receivedAt,
      aborted: false,
    };
    this.requests.push(record);
    res.on("close", () => {
      if (!res.writableFinished) record.aborted = true;
    });

    if (route.kind === "other") return sendJson(res, 404, errorBody(route.api, 404, "Resource not found"));
    if (route.api === "azure-openai") {
      // Azure answers a request without api-version as a path it does not know, and one without
      // credentials with 401, before it reads the body.
      if (!record.apiVersion) return this.refuse(record, res, 404, errorBody("azure-openai", 404, "Resource not found"));
      if (!record.apiKey && !/^Bearer \S+$/.test(record.authorization ?? "")) {
        return this.refuse(record, res, 401, errorBody("azure-openai", 401, azureAccessDenied));
      }
    }
    if (route.kind === "ping") return this.answerPing(record, res);
    // The model is in the path for Azure; Ollama's API needs it in the body.
    const refusal = chatRequestRefusal(rawBody, { modelRequired: route.api === "ollama" });
    if (refusal) return this.refuse(record, res, refusal.status, refusal.body);
    let next = this.scripted.shift() ?? this.fallback;
    for (let depth = 0; ; depth++) {
      if (res.destroyed || record.aborted) return;
      if (next.kind === "compute" && depth < 10) {
        try {
          next = await next.compute(record);
        } catch (error) {
          // Shown in the test's output: the client only sees a 500.
          console.error("the LLM stand-in's reply function threw:", error);
          return sendJson(res, 500, errorBody(route.api, 500, "the stand-in's reply function threw"));
        }
      } else if (next.kind === "delay") {
        await this.sleep(next.ms);
        next = next.then;
      } else break;
    }
    if (res.destroyed || record.aborted) return;
    await this.answer(record, next, res);
  }

  private refuse(record: RecordedLlmRequest, res: ServerResponse, status: number, body: OpenAiErrorBody): void {
    record.refusal = { status, body };
    sendJson(res, status, body);
  }

  private async answerPing(record: RecordedLlmRequest, res: ServerResponse): Promise<void> {
    let next = this.pingScripted.shift();
    while (next?.kind === "delay") {
      await this.sleep(next.ms);
      next = next.then;
    }
    if (res.destroyed || record.aborted) return;
    if (next?.kind === "drop") return void res.socket?.destroy();
    if (next?.kind === "error" || next?.kind === "raw") return this.answer(record, next, res);
    if (record.api === "ollama")
      return sendJson(res, 200, { object: "list", data: [{ id: "llama3.1:latest", object: "model", created: 0, owned_by: "library" }] });
    return sendJson(res, 200, { object: "list", data: [{ id: "gpt-4o", object: "model", status: "succeeded", created_at: 0 }] });
  }

  private async answer(record: RecordedLlmRequest, next: StandInReply, res: ServerResponse): Promise<void> {
    const api = record.api;
    switch (next.kind) {
      case "drop":
        res.socket?.destroy();
        return;
      case "raw":
        res.writeHead(next.status, { "Content-Type": next.contentType, "Content-Length": Buffer.byteLength(next.body) });
        res.end(next.body);
        return;
      case "error": {
        const headers: Record<string, string> = next.retryAfter === undefined ? {} : { "Retry-After": next.retryAfter };
        return sendJson(res, next.status, errorBody(api, next.status, next.message), headers);
      }
      case "text":
      case "tool_calls": {
        const calls = next.kind === "tool_calls" ? next.calls.map((call) => ({ ...call, id: call.id ?? `call_${++this.callCounter}` })) : [];
        const text = next.text ?? "";
        const model = (api === "azure-openai" ? record.deployment : record.body?.model) ?? "stand-in";
        const answer = { api, model, text, calls };
        if (!record.stream) {
          const body = completion(answer);
          if (next.kind === "text" && next.dropAfterChunks !== undefined) {
            const textBody = JSON.stringify(body);
            res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(textBody) });
            res.write(textBody.slice(0, Math.floor(textBody.length / 2)));
            await this.sleep(20);
            res.socket?.destroy();
            return;
          }
          return sendJson(res, 200, body);
        }
        const pieces = next.kind === "text" ? (next.chunks ?? wordsOf(next.text)) : text === "" ? [] : wordsOf(text);
        const options = {
          chunkDelayMs: next.kind === "text" ? (next.chunkDelayMs ?? 0) : 0,
          dropAfterChunks: next.kind === "text" ? next.dropAfterChunks : undefined,
          argumentPieces: next.kind === "tool_calls" ? (next.argumentPieces ?? 3) : 1,
        };
        return this.streamCompletion(res, answer, pieces, options);
      }
      case "compute":
      case "delay":
        return sendJson(res, 500, errorBody(api, 500, "the stand-in's reply functions nest too deeply"));
    }
  }

  private async streamCompletion(res: ServerResponse, answer: Answer, pieces: readonly string[], options: StreamOptions): Promise<void> {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const event = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\n\n`);
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: unknown, finishReason: string | null = null) =>
      event({
        id: "chatcmpl-stand-in",
        object: "chat.completion.chunk",
        created,
        model: answer.model,
        system_fingerprint: "fp_stand_in",
        choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      });
    // As Azure does: first the prompt filter results, with no choices.
    if (answer.api === "azure-openai") {
      event({ id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] });
    }
    chunk({ role: "assistant", content: "", refusal: null });
    for (const [index, piece] of pieces.entries()) {
      if (!(await this.beforeChunk(res, index, options))) return;
      chunk({ content: piece });
    }
    for (const [index, call] of answer.calls.entries()) {
      chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] });
      for (const piece of split(argumentsText(call), options.argumentPieces)) {
        chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
      }
    }
    chunk({}, answer.calls.length > 0 ? "tool_calls" : "stop");
    res.write("data: [DONE]\n\n");
    res.end();
  }

  /** Waits before a streamed piece, or drops the connection; false when the stream must stop. */
  private async beforeChunk(res: ServerResponse, index: number, options: StreamOptions): Promise<boolean> {
    if (options.dropAfterChunks !== undefined && index >= options.dropAfterChunks) {
      await this.sleep(20); // lets the pieces already written reach the client
      res.socket?.destroy();
      return false;
    }
    if (options.chunkDelayMs > 0) await this.sleep(options.chunkDelayMs);
    return !res.destroyed;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/**
 * The stand-in of the test file that calls this at its top level, before its own hooks: started
 * before the file's beforeAll hooks (so that they can point the app at `url`), reset before each
 * test (no script, fallback or recorded request carries over from the test before) and closed after
 * the file's afterAll hooks (vitest runs those last registered first), once the hosts that call it
 * are down.
 *
 * The stand-in exists only once the first beforeAll has run, after the file's top level, so what
 * this returns forwards to it; used before then, it throws.
 */
export function useLlmStandIn(): LlmStandIn {
  let started: LlmStandIn | undefined;
  beforeAll(async () => {
    started = await LlmStandIn.start();
  });
  beforeEach(() => {
    started?.reset();
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy(Object.create(LlmStandIn.prototype) as LlmStandIn, {
    get(_target, property) {
      if (!started) throw new Error("the LLM stand-in is used before it started: use it in hooks and tests, not at a test file's top level");
      const value: unknown = Reflect.get(started, property, started);
      return typeof value === "function" ? value.bind(started) : value;
    },
  });
}

interface Answer {
  readonly api: LlmApi | "unknown";
  readonly model: string;
  readonly text: string;
  readonly calls: readonly (ToolCallSpec & { readonly id: string })[];
}

interface StreamOptions {
  readonly chunkDelayMs: number;
  readonly dropAfterChunks: number | undefined;
  readonly argumentPieces: number;
}

function routeOf(method: string, path: string): { api: LlmApi | "unknown"; kind: "chat" | "ping" | "other"; deployment?: string } {
  if (path === "/v1/chat/completions") return { api: "ollama", kind: method === "POST" ? "chat" : "other" };
  if (path === "/v1/models") return { api: "ollama", kind: method === "GET" ? "ping" : "other" };
  const deployment = /\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(path);
  if (deployment) return { api: "azure-openai", kind: method === "POST" ? "chat" : "other", deployment: decodeURIComponent(deployment[1]!) };
  if (path.endsWith("/openai/models")) return { api: "azure-openai", kind: method === "GET" ? "ping" : "other" };
  return { api: "unknown", kind: "other" };
}

function argumentsText(call: ToolCallSpec): string {
  return call.rawArguments ?? JSON.stringify(call.arguments ?? {});
}

function completion(answer: Answer): unknown {
  const toolCalls = answer.calls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: argumentsText(call) } }));
  return {
    id: "chatcmpl-stand-in",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: answer.model,
    system_fingerprint: "fp_stand_in",
    choices: [
      {
        index: 0,
        finish_reason: toolCalls.length > 0 ? "tool_calls" : "stop",
        logprobs: null,
        message: {
          role: "assistant",
          content: answer.text === "" && toolCalls.length > 0 ? null : answer.text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        ...(answer.api === "azure-openai" ? { content_filter_results: {} } : {}),
      },
    ],
    ...(answer.api === "azure-openai" ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] } : {}),
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

/** Azure's answer to a request without credentials. */
const azureAccessDenied =
  "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";

/** Azure's error body ({code, message}), or OpenAI's ({message, type, param, code}) as Ollama's OpenAI-compatible API sends it. */
function errorBody(api: LlmApi | "unknown", status: number, message: string | undefined): OpenAiErrorBody {
  const text = message ?? (status === 429 ? "Rate limit exceeded" : status >= 500 ? "Internal server error" : `Request failed with status ${status}`);
  if (api === "azure-openai") return { error: { code: String(status), message: text } };
  return { error: { message: text, type: status >= 500 ? "api_error" : "invalid_request_error", param: null, code: null } };
}

/** "Hello there, world" → ["Hello ", "there, ", "world"]. */
function wordsOf(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function split(text: string, pieces: number): string[] {
  if (pieces <= 1 || text.length <= 1) return [text];
  const size = Math.ceil(text.length / pieces);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(text: string): StandInRequestBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as StandInRequestBody) : undefined;
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
