/**
 * What is left of the hand-written retry layer once the openai SDK does the retrying
 * (maxRetries, timeout, Retry-After / retry-after-ms): the mapping of every way a model call can
 * fail to one AppError, "llm_unavailable", whose message and details carry neither the URL, nor a
 * key, nor a token.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from "openai";
import { AppError } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { ChatModel } from "./chat_model.js";

export type LlmProvider = ChatModel["provider"];

/** An answer the client could not use (no message, a tool call without a name...), in words safe to show. */
export class MalformedAnswer extends Error {
  constructor(reason: string) {
    super(`malformed response: ${reason}`);
    this.name = "MalformedAnswer";
  }
}

/** The caller's signal aborted the call. */
export class LlmCancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "LlmCancelled";
  }
}

const connectionReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection dropped",
  UND_ERR_CLOSED: "connection dropped",
  CERT_HAS_EXPIRED: "TLS error",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS error",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS error",
};

/**
 * The reason of a connection-level failure, made from error codes alone (undici's messages name
 * the address): "fetch failed" before an answer, "terminated" when a streamed body is cut.
 */
function connectionReason(error: unknown): string | undefined {
  let fetchError = false;
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    if (current instanceof TypeError && /^(fetch failed|terminated)$/.test(current.message)) fetchError = true;
    const code = (current as { code?: unknown }).code;
    const known = typeof code === "string" ? connectionReasons[code] : undefined;
    if (known) return known;
  }
  return fetchError ? "connection failed" : undefined;
}

/**
 * An upstream's error text, made fit for a message: one line, at most 200 characters, without
 * URLs, bearer tokens (JWTs) or any of the given secrets.
 */
export function safeUpstreamMessage(text: string | undefined, secrets: readonly (string | undefined)[] = []): string | undefined {
  if (typeof text !== "string") return undefined;
  let safe = text;
  for (const secret of secrets) if (secret) safe = safe.split(secret).join("<redacted>");
  safe = safe
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>")
    .replace(/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, "<redacted>")
    .replace(/\s+/g, " ")
    .trim();
  if (safe === "") return undefined;
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
}

/** Statuses the SDK retries: their text adds nothing a caller can act on. */
function isTransient(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function upstreamText(error: APIError): string | undefined {
  const body = error.error as { message?: unknown } | string | undefined;
  if (typeof body === "string") return body;
  return typeof body?.message === "string" ? body.message : undefined;
}

export interface FailureContext {
  readonly provider: LlmProvider;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** The caller's signal: once it has aborted, whatever the SDK threw is a consequence of that. */
  readonly signal?: AbortSignal | undefined;
  /** Keys and tokens that must never be repeated, even when the upstream echoes them. */
  readonly secrets: readonly (string | undefined)[];
}

/** Why a call failed, in words safe to show, with the HTTP status when there was one. */
function describeFailure(error: unknown, context: Pick<FailureContext, "timeoutMs" | "signal" | "secrets">): { reason: string; status?: number } {
  if (context.signal?.aborted || error instanceof LlmCancelled || error instanceof APIUserAbortError) return { reason: "cancelled" };
  if (error instanceof AppError) return { reason: error.message };
  if (error instanceof MalformedAnswer) return { reason: error.message };
  if (error instanceof APIConnectionTimeoutError) return { reason: `timed out after ${context.timeoutMs} ms` };
  if (error instanceof APIConnectionError) return { reason: connectionReason(error.cause) ?? "connection failed" };
  if (error instanceof APIError) {
    const status = error.status;
    // An error event in the middle of a stream has no status.
    if (typeof status !== "number") return { reason: "the model reported an error" };
    const text = isTransient(status) ? undefined : safeUpstreamMessage(upstreamText(error), context.secrets);
    return { reason: text ? `HTTP ${status}: ${text}` : `HTTP ${status}`, status };
  }
  // The token provider failed; its message may name the identity endpoint, so it is not repeated.
  if (error instanceof OpenAIError && /token|apiKey/i.test(error.message)) return { reason: "could not get an access token" };
  if (error instanceof SyntaxError) return { reason: "malformed response: not JSON" };
  return { reason: connectionReason(error) ?? "unexpected error" };
}

/** The AppError a caller sees for any failure of a model call, logged once. */
export function llmUnavailable(error: unknown, context: FailureContext): AppError {
  if (error instanceof AppError) return error;
  const { reason, status } = describeFailure(error, context);
  const fields = { provider: context.provider, reason, status };
  if (reason === "cancelled") context.logger.info("language model call cancelled", fields);
  else context.logger.warn("language model unavailable", fields);
  return new AppError("llm_unavailable", `the language model is unavailable: ${reason}`, {
    details: { provider: context.provider, ...(status === undefined ? {} : { status }) },
  });
}

/**
 * The promise, or a rejection with LlmCancelled as soon as the signal aborts. The SDK looks at the
 * signal while a request is in flight, but sleeps between retries without it (a Retry-After of a
 * minute would hold the chat that long past its deadline).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  // What the abandoned call does later is of no interest; it must not become an unhandled rejection.
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(new LlmCancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new LlmCancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
