/**
 * One call to the Hugging Face Inference API through @huggingface/inference, and the mapping of
 * whatever goes wrong to either a RetryableFailure (for the retry loop) or a final AppError.
 */
import {
  InferenceClient,
  InferenceClientHubApiError,
  InferenceClientInputError,
  InferenceClientProviderApiError,
  InferenceClientProviderOutputError,
} from "@huggingface/inference";
import { AppError } from "../../src/plugins/plugin.js";
import { isRetryableStatus, parseRetryAfter } from "../../src/plugins/plugin.js";
import { RetryableFailure } from "./retry_policy.js";
import { AttemptCancelled, type HuggingFaceTask, type TaskOutput } from "./tasks.js";

export type { TaskOutput } from "./tasks.js";

export interface AttemptRequest {
  readonly task: HuggingFaceTask;
  readonly model: string;
  readonly inputs: string;
  /** Already in the shape the client expects for the task. */
  readonly parameters: Record<string, unknown> | undefined;
  /** Base URL of the hf-inference API, without a trailing slash. */
  readonly endpoint: string;
}

export interface AttemptOptions {
  readonly token: string;
  /** Aborts when the run is cancelled. */
  readonly runSignal: AbortSignal;
  readonly timeoutMs: number;
}

/**
 * The URL the client is pointed at: the model's route under the base URL. The client posts
 * text-classification and summarization to it as is, and text-generation (an OpenAI-style
 * completion on hf-inference) to `<it>/v1/completions`.
 */
function modelEndpointUrl(endpoint: string, model: string): string {
  return `${endpoint.replace(/\/+$/, "")}/models/${model}`;
}

export function createInferenceClient(token: string): InferenceClient {
  // The client's own retry_on_error re-sends a 503 at once, forever; our retry loop replaces it.
  return new InferenceClient(token, { retry_on_error: false });
}

/** Calls Hugging Face once. Throws RetryableFailure, AttemptCancelled or a final AppError. */
export async function attemptInference(client: InferenceClient, request: AttemptRequest, options: AttemptOptions): Promise<TaskOutput> {
  if (options.runSignal.aborted) throw new AttemptCancelled();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.runSignal, timeout]);
  // The client's errors carry the status but not the headers; its fetch hook lets us read Retry-After.
  let lastResponse: { status: number; retryAfter: string | null } | undefined;
  const observingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    lastResponse = { status: response.status, retryAfter: response.headers.get("retry-after") };
    return response;
  };
  const args = {
    model: request.model,
    inputs: request.inputs,
    endpointUrl: modelEndpointUrl(request.endpoint, request.model),
    ...(request.parameters ? { parameters: request.parameters } : {}),
  };
  const callOptions = { signal, fetch: observingFetch };
  try {
    switch (request.task) {
      case "text-classification": {
        const labels = await client.textClassification(args, callOptions);
        return {
          task: request.task,
          labels: labels.map(({ label, score }) => ({ label, score })).sort((a, b) => b.score - a.score),
        };
      }
      case "summarization": {
        const { summary_text } = await client.summarization(args, callOptions);
        return { task: request.task, summary: summary_text };
      }
      case "text-generation": {
        const { generated_text } = await client.textGeneration(args, callOptions);
        return { task: request.task, generatedText: generated_text };
      }
    }
  } catch (error) {
    throw classifyFailure(error, { request, token: options.token, runSignal: options.runSignal, timeout, lastResponse });
  }
}

function classifyFailure(
  error: unknown,
  context: {
    request: AttemptRequest;
    token: string;
    runSignal: AbortSignal;
    timeout: AbortSignal;
    lastResponse: { status: number; retryAfter: string | null } | undefined;
  },
): Error {
  const { request, token } = context;
  if (error instanceof InferenceClientProviderApiError || error instanceof InferenceClientHubApiError) {
    const status = error.httpResponse.status;
    const body = error.httpResponse.body;
    if (isRetryableStatus(status)) {
      const header = context.lastResponse?.status === status ? context.lastResponse.retryAfter : null;
      return new RetryableFailure(status, parseRetryAfter(header) ?? loadingEstimate(status, body));
    }
    const upstream = safeUpstreamMessage(body, token);
    if (status === 401) {
      return new AppError("plugin_disabled", "Hugging Face rejected HF_TOKEN (401): set a valid access token", {
        details: { status },
      });
    }
    return new AppError("invalid_input", `Hugging Face rejected the request (${status})${upstream ? `: ${upstream}` : ""}`, {
      details: { status, task: request.task, model: request.model },
    });
  }
  if (context.runSignal.aborted) return new AttemptCancelled();
  if (context.timeout.aborted) return new RetryableFailure("timeout");
  if (error instanceof InferenceClientProviderOutputError) {
    // A 200 whose body does not fit the task, most often a model made for another task.
    return new AppError(
      "upstream_unavailable",
      `Hugging Face answered in an unexpected format for ${request.task}: is ${request.model} a ${request.task} model?`,
      { details: { status: "unexpected response", task: request.task, model: request.model } },
    );
  }
  if (error instanceof InferenceClientInputError) {
    const message = redact(error.message, token);
    return new AppError("invalid_input", message ?? "the Hugging Face client refused the request", {
      details: { task: request.task, model: request.model },
    });
  }
  // fetch's "TypeError: fetch failed" (refused, reset, DNS) and anything else unexpected.
  return new RetryableFailure("network error");
}

/** HF answers 503 with {"error":"Model ... is currently loading","estimated_time":20.0} while a model loads. */
function loadingEstimate(status: number, body: unknown): number | undefined {
  if (status !== 503 || typeof body !== "object" || body === null) return undefined;
  const seconds = (body as { estimated_time?: unknown }).estimated_time;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

const maxUpstreamMessageLength = 300;

/** The upstream's own words about a rejected request, when they are plain text and carry no token. */
function safeUpstreamMessage(body: unknown, token: string): string | undefined {
  let text: unknown = body;
  if (typeof body === "object" && body !== null) {
    const record = body as Record<string, unknown>;
    const error = record.error;
    text =
      typeof error === "object" && error !== null && "message" in error
        ? (error as { message: unknown }).message
        : Array.isArray(error)
          ? error.filter((e) => typeof e === "string").join("; ")
          : (error ?? record.message ?? record.detail);
  }
  if (typeof text !== "string") return undefined;
  return redact(text, token);
}

/** One line, bounded, and undefined when it mentions the token (or a part of it long enough to matter). */
function redact(text: string, token: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  if (line === "" || containsSecret(line, token)) return undefined;
  return line.length > maxUpstreamMessageLength ? `${line.slice(0, maxUpstreamMessageLength - 1)}…` : line;
}

function containsSecret(text: string, token: string): boolean {
  if (text.includes(token)) return true;
  // A truncated echo ("hf_abcd...") still leaks most of it; any 12-character run of the token counts.
  const window = Math.min(12, token.length);
  for (let i = 0; i + window <= token.length; i++) {
    if (text.includes(token.slice(i, i + window))) return true;
  }
  return false;
}
