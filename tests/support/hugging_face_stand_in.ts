/**
 * A stand-in for Hugging Face's Inference API (the hf-inference routes of router.huggingface.co),
 * on 127.0.0.1, so that tests never reach the internet. It answers
 *   POST /models/<owner>/<name>                  text-classification and summarization, by the model's task
 *   POST /models/<owner>/<name>/v1/completions   text-generation (OpenAI-style completion)
 * in Hugging Face's wire format, under any path prefix (HF_ENDPOINT may carry one). Tests script
 * replies per request (429 with Retry-After, 503 "model is loading", 500, slow answers...) and
 * read back every request it received.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import { startLoopbackServer, stopLoopbackServer } from "./loopback_server.js";

export type StandInTask = "text-classification" | "summarization" | "text-generation";

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** Lower-cased names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  readonly authorization: string | undefined;
  readonly rawBody: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly body: unknown;
  /** performance.now() when the request arrived. */
  readonly receivedAt: number;
  /** True once the client went away before the reply was complete (an aborted request). */
  aborted: boolean;
}

export interface Reply {
  /** Defaults to 200. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Sent as JSON (a string is sent as text/plain). When absent on a 200, the model's normal answer
   * for the request; a function receives the model id and the parsed request body.
   */
  readonly body?: unknown;
  /** Waits this long before answering. */
  readonly delayMs?: number;
}

/** Ready-made replies in Hugging Face's own shapes. */
export const replies = {
  ok: (): Reply => ({}),
  /** Retry-After is in seconds, or an HTTP date. */
  rateLimited: (retryAfter: string | undefined = "1"): Reply => ({
    status: 429,
    headers: retryAfter === undefined ? {} : { "Retry-After": retryAfter },
    body: { error: "Rate limit reached. Please log in or use a HF access token" },
  }),
  modelLoading: (estimatedTimeSeconds = 0.02): Reply => ({
    status: 503,
    body: (model: string) => ({ error: `Model ${model} is currently loading`, estimated_time: estimatedTimeSeconds }),
  }),
  serverError: (): Reply => ({ status: 500, body: { error: "Internal Server Error" } }),
  badRequest: (message: string): Reply => ({ status: 400, body: { error: message } }),
  slow: (delayMs: number): Reply => ({ delayMs }),
} as const;

const defaultModels: Readonly<Record<string, StandInTask>> = {
  "distilbert/distilbert-base-uncased-finetuned-sst-2-english": "text-classification",
  "cardiffnlp/twitter-roberta-base-sentiment-latest": "text-classification",
  "facebook/bart-large-cnn": "summarization",
  "openai-community/gpt2": "text-generation",
};

export class HuggingFaceStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly scripted: Reply[] = [];
  private fallback: Reply = replies.ok();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly models: Record<string, StandInTask>;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    models: Readonly<Record<string, StandInTask>>,
  ) {
    this.models = { ...defaultModels, ...models };
  }

  /** Listens on 127.0.0.1 on a free port; `models` adds to the models it knows (others get 404). */
  static async start(models: Readonly<Record<string, StandInTask>> = {}): Promise<HuggingFaceStandIn> {
    let standIn: HuggingFaceStandIn | undefined;
    const { server, url } = await startLoopbackServer((req, res) => standIn!.handle(req, res));
    standIn = new HuggingFaceStandIn(server, url, models);
    return standIn;
  }

  /** The next requests get these replies, in order; after them, the fallback (normally a success). */
  script(...scripted: Reply[]): this {
    this.scripted.push(...scripted);
    return this;
  }

  /** What every request gets once the script is used up. */
  answerEveryRequestWith(reply: Reply): this {
    this.fallback = reply;
    return this;
  }

  /** Forgets the script, the fallback and the recorded requests. */
  reset(): void {
    this.scripted.length = 0;
    this.fallback = replies.ok();
    this.requests.length = 0;
  }

  close(): Promise<void> {
    return stopLoopbackServer(this.server, this.timers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      authorization: req.headers.authorization,
      rawBody,
      body: parseJson(rawBody),
      receivedAt,
      aborted: false,
    };
    this.requests.push(record);
    res.on("close", () => {
      if (!res.writableFinished) record.aborted = true;
    });

    const reply = this.scripted.shift() ?? this.fallback;
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, reply.delayMs);
        this.timers.add(timer);
      });
    }
    if (res.destroyed || record.aborted) return;
    this.answer(record, reply, res);
  }

  private answer(request: RecordedRequest, reply: Reply, res: ServerResponse): void {
    const [status, body] = this.statusAndBody(request, reply);
    send(res, status, body, { "x-request-id": `stand-in-${this.requests.length}`, ...reply.headers });
  }

  /** The scripted answer, or else the real API's, with the checks it makes. */
  private statusAndBody(request: RecordedRequest, reply: Reply): [number, unknown] {
    const route = /\/models\/([^/]+(?:\/[^/]+)??)(\/v1\/completions)?$/.exec(request.path.split("?")[0] ?? "");
    const model = route?.[1] ?? "";
    const status = reply.status ?? 200;
    if (status !== 200 || reply.body !== undefined) {
      return [status, typeof reply.body === "function" ? (reply.body as (m: string, b: unknown) => unknown)(model, request.body) : reply.body];
    }
    if (request.method !== "POST") return [405, { error: "Method Not Allowed" }];
    if (!route) return [404, "Not Found"];
    if (!request.authorization?.startsWith("Bearer ")) return [401, { error: "Invalid credentials in Authorization header" }];
    const task = this.models[model];
    if (!task) return [404, { error: `Model ${model} does not exist` }];
    const isCompletion = route[2] !== undefined;
    if (isCompletion !== (task === "text-generation")) {
      return [400, { error: `Model ${model} does not support ${isCompletion ? "completions" : "this route"}` }];
    }
    const body = request.body as Record<string, unknown> | undefined;
    if (task === "text-generation") {
      if (typeof body?.prompt !== "string") return [422, { error: "prompt: field required" }];
      return [200, completion(model, body.prompt)];
    }
    if (typeof body?.inputs !== "string") return [400, { error: "inputs: field required" }];
    return [200, task === "summarization" ? summarization(body.inputs) : classification(body.inputs)];
  }
}

/** text-classification answers a list per input: [[{label, score}, ...]]. */
function classification(inputs: string): unknown {
  const negative = /\b(bad|awful|terrible|hate|worst)\b/i.test(inputs);
  return [
    [
      { label: negative ? "NEGATIVE" : "POSITIVE", score: 0.9987 },
      { label: negative ? "POSITIVE" : "NEGATIVE", score: 0.0013 },
    ],
  ];
}

/** summarization answers [{summary_text}]; the stand-in keeps the first sentence. */
function summarization(inputs: string): unknown {
  const first = inputs.split(/(?<=[.!?])\s/)[0] ?? inputs;
  return [{ summary_text: ` ${first.trim()}` }];
}

/** text-generation on hf-inference is an OpenAI-style completion. */
function completion(model: string, prompt: string): unknown {
  return {
    id: "cmpl-stand-in",
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, text: ` and then ${prompt.length} characters later, the end.`, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body);
  const type = typeof body === "string" ? "text/plain; charset=utf-8" : "application/json";
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
