/**
 * Timeouts and retries shared by both language-model providers, and the mapping of every failure
 * to one AppError ("llm_unavailable").
 *
 * - Each attempt gets `timeoutMs` (AbortSignal.timeout combined with the request's signal through
 *   AbortSignal.any). The timeout covers the whole attempt, from sending the request to the last
 *   byte of the answer, streamed or not: a model turn takes as long either way.
 * - 429, 5xx, timeouts and connection errors are retried, up to `maxRetries` times, with
 *   exponential backoff and jitter, or after the wait the upstream asked for (Retry-After /
 *   retry-after-ms), capped at `maxDelayMs`. Other 4xx and unreadable answers are not retried.
 * - A streamed answer is retried only until its first event has been handed to the caller: once a
 *   token has been yielded, a failure ends the stream with an error.
 * - When the request's own signal aborts, the call stops at once (even in the middle of a wait)
 *   with AppError "llm_unavailable", reason "cancelled".
 *
 * Messages and details carry neither the URL nor any key or token.
 */
import { handleWhen, retry, type RetryPolicy } from "cockatiel";
import { AppError } from "../errors/app_error.js";
import { silentLogger, type Logger } from "../logging/logger.js";
import { RetryAfterBackoff, isRetryableStatus, parseRetryAfter, type BackoffOptions } from "../resilience/retry_after_backoff.js";
import type { ChatModel } from "./chat_model.js";

export type LlmProvider = ChatModel["provider"];

export type LlmBackoffOptions = BackoffOptions;

export const defaultLlmBackoff: LlmBackoffOptions = { baseDelayMs: 500, maxDelayMs: 20_000 };

/** What the two ChatModel implementations accept besides their configuration. */
export interface ChatModelOptions {
  readonly logger?: Logger | undefined;
  /** Tests shorten the waits between retries; production uses defaultLlmBackoff. */
  readonly backoff?: Partial<LlmBackoffOptions> | undefined;
}

/** Why one attempt failed, in words safe to show (no URL, no key, no token). */
export class LlmFailure extends Error {
  readonly reason: string;
  readonly retryable: boolean;
  /** The HTTP status, when there was one. */
  readonly status: number | undefined;
  /** How long the upstream asked us to wait before the next attempt, when it said so. */
  readonly retryAfterMs: number | undefined;

  constructor(reason: string, options: { retryable: boolean; status?: number | undefined; retryAfterMs?: number | undefined }) {
    super(reason);
    this.name = "LlmFailure";
    this.reason = reason;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  static retryable(reason: string, status?: number, retryAfterMs?: number): LlmFailure {
    return new LlmFailure(reason, { retryable: true, status, retryAfterMs });
  }

  static final(reason: string, status?: number): LlmFailure {
    return new LlmFailure(reason, { retryable: false, status });
  }
}

/** The request's own signal aborted. */
export class LlmCancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "LlmCancelled";
  }
}

/** What one attempt is given: abort when the caller gives up or the attempt's time is up. */
export interface AttemptContext {
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** Turns what a provider's client threw into an LlmFailure; called only when neither signal has aborted. */
export type FailureClassifier = (error: unknown) => LlmFailure;

interface LiveAttempt extends AttemptContext {
  readonly timeout: AbortSignal;
}

/**
 * Milliseconds to wait according to retry-after-ms (milliseconds, as Azure OpenAI sends) or
 * Retry-After (delay-seconds, or an HTTP-date). Undefined when neither is there or readable.
 */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  return parseRetryAfter(headers.get("retry-after"), now);
}

/** The failure for a non-2xx answer: retryable or not by its status. */
export function httpFailure(
  status: number,
  headers: { get(name: string): string | null } | undefined,
  upstreamMessage: string | undefined,
): LlmFailure {
  if (isRetryableStatus(status)) return LlmFailure.retryable(`HTTP ${status}`, status, retryAfterMs(headers));
  return LlmFailure.final(upstreamMessage ? `HTTP ${status}: ${upstreamMessage}` : `HTTP ${status}`, status);
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
 * A connection-level failure of fetch (undici): "fetch failed" before an answer, "terminated"
 * when the connection drops while the body is read. Undefined for anything else. The reason is
 * made from the error code alone: undici's messages name the address.
 */
export function connectionFailure(error: unknown): LlmFailure | undefined {
  const codes: string[] = [];
  let isFetchError = false;
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof TypeError && /^(fetch failed|terminated)$/.test(current.message)) isFetchError = true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  if (!isFetchError && codes.length === 0) return undefined;
  const known = codes.map((c) => connectionReasons[c]).find((r) => r !== undefined);
  if (!isFetchError && known === undefined) return undefined;
  // TLS problems do not go away by themselves.
  if (known === "TLS error") return LlmFailure.final(known);
  return LlmFailure.retryable(known ?? "connection failed");
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

/** The error text of a JSON error body in either provider's shape: {error: "..."} or {error: {message}}. */
export function upstreamErrorText(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  const message = (body as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
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

export interface LlmCallerSettings {
  readonly provider: LlmProvider;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly logger?: Logger | undefined;
  readonly backoff?: Partial<LlmBackoffOptions> | undefined;
}

/** Runs a provider's attempts under the timeout and retry rules above. */
export class LlmCaller {
  readonly provider: LlmProvider;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  private readonly logger: Logger;
  private readonly backoff: LlmBackoffOptions;

  constructor(settings: LlmCallerSettings) {
    this.provider = settings.provider;
    this.timeoutMs = settings.timeoutMs;
    this.maxRetries = settings.maxRetries;
    this.logger = settings.logger ?? silentLogger;
    this.backoff = { ...defaultLlmBackoff, ...settings.backoff };
    if (!(this.backoff.baseDelayMs >= 0) || !(this.backoff.maxDelayMs >= 0)) throw new RangeError("backoff delays must be non-negative");
  }

  /** One request with retries. */
  async call<T>(signal: AbortSignal | undefined, attempt: (context: AttemptContext) => Promise<T>, classify: FailureClassifier): Promise<T> {
    const counter = { attempts: 0 };
    try {
      return await this.withRetries(signal, counter, (live) => attempt(live), classify);
    } catch (error) {
      throw this.unavailable(error, counter.attempts);
    }
  }

  /** One request, one attempt (the health check): a ping answers now or not at all. */
  async once<T>(signal: AbortSignal | undefined, attempt: (context: AttemptContext) => Promise<T>, classify: FailureClassifier): Promise<T> {
    if (signal?.aborted) throw this.unavailable(new LlmCancelled(), 0);
    const live = this.startAttempt(signal, 1);
    try {
      return await attempt(live);
    } catch (error) {
      throw this.unavailable(this.toFailure(error, signal, live, classify), 1);
    }
  }

  /**
   * A streamed request: the attempt, up to its first event, is retried like any other; after
   * that event has been handed on, a failure ends the stream with an error. Leaving the loop
   * early closes the provider's iterator (and so its connection).
   */
  async *stream<E>(signal: AbortSignal | undefined, open: (context: AttemptContext) => AsyncIterable<E>, classify: FailureClassifier): AsyncGenerator<E, void, undefined> {
    const counter = { attempts: 0 };
    let started: { iterator: AsyncIterator<E>; first: IteratorResult<E>; live: LiveAttempt };
    try {
      started = await this.withRetries(signal, counter, async (live) => {
        const iterator = open(live)[Symbol.asyncIterator]();
        try {
          return { iterator, first: await iterator.next(), live };
        } catch (error) {
          await closeQuietly(iterator);
          throw error;
        }
      }, classify);
    } catch (error) {
      throw this.unavailable(error, counter.attempts);
    }
    const { iterator, live } = started;
    let result = started.first;
    try {
      while (!result.done) {
        yield result.value;
        try {
          result = await iterator.next();
        } catch (error) {
          throw this.unavailable(this.toFailure(error, signal, live, classify), counter.attempts);
        }
      }
    } finally {
      if (!result.done) await closeQuietly(iterator);
    }
  }

  private async withRetries<T>(
    signal: AbortSignal | undefined,
    counter: { attempts: number },
    attempt: (live: LiveAttempt) => Promise<T>,
    classify: FailureClassifier,
  ): Promise<T> {
    if (signal?.aborted) throw new LlmCancelled();
    const policy = this.policy();
    const run = policy.execute(async () => {
      // After an abort during a wait, cockatiel still wakes up once more: refuse to start then.
      if (signal?.aborted) throw new LlmCancelled();
      counter.attempts += 1;
      const live = this.startAttempt(signal, counter.attempts);
      try {
        return await attempt(live);
      } catch (error) {
        throw this.toFailure(error, signal, live, classify);
      }
    }, signal);
    if (!signal) return run;
    // cockatiel sleeps between attempts without looking at the signal: the caller must not wait for it.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new LlmCancelled());
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([run, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  private policy(): RetryPolicy {
    const policy = retry(
      handleWhen((error) => error instanceof LlmFailure && error.retryable),
      { maxAttempts: this.maxRetries, backoff: new RetryAfterBackoff(this.backoff, (error) => (error instanceof LlmFailure ? error.retryAfterMs : undefined)) },
    ).dangerouslyUnref();
    policy.onRetry((event) => {
      const failure = "error" in event && event.error instanceof LlmFailure ? event.error : undefined;
      this.logger.warn("language model attempt failed; retrying", {
        provider: this.provider,
        reason: failure?.reason,
        status: failure?.status,
        attempt: event.attempt,
        delayMs: Math.round(event.delay),
      });
    });
    return policy;
  }

  private startAttempt(signal: AbortSignal | undefined, attempt: number): LiveAttempt {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return { attempt, timeout, signal: signal ? AbortSignal.any([signal, timeout]) : timeout };
  }

  /** The signals tell the truth first: whatever the client threw after an abort is a consequence of it. */
  private toFailure(error: unknown, signal: AbortSignal | undefined, live: LiveAttempt, classify: FailureClassifier): Error {
    if (signal?.aborted || error instanceof LlmCancelled) return new LlmCancelled();
    if (live.timeout.aborted) return LlmFailure.retryable(`timed out after ${this.timeoutMs} ms`);
    if (error instanceof LlmFailure || error instanceof AppError) return error;
    try {
      return classify(error);
    } catch {
      return LlmFailure.final("unexpected error");
    }
  }

  private unavailable(error: unknown, attempts: number): AppError {
    if (error instanceof AppError) return error;
    const failure =
      error instanceof LlmCancelled
        ? { reason: "cancelled", status: undefined }
        : error instanceof LlmFailure
          ? error
          : { reason: "unexpected error", status: undefined };
    const fields = { provider: this.provider, reason: failure.reason, status: failure.status, attempts };
    if (error instanceof LlmCancelled) this.logger.info("language model call cancelled", fields);
    else this.logger.warn("language model unavailable", fields);
    return new AppError("llm_unavailable", `the language model is unavailable: ${failure.reason}`, {
      details: { provider: this.provider, ...(failure.status === undefined ? {} : { status: failure.status }), attempts },
    });
  }
}

async function closeQuietly(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The attempt's own failure is what matters.
  }
}
