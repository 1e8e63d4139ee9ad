/**
 * Retries for calls to Hugging Face: cockatiel runs the loop; the delay before each retry is
 * exponential with jitter, unless the failed response said how long to wait (Retry-After, or
 * the estimated_time of a model that is loading), which is then honoured up to a cap.
 */
import {
  ExponentialBackoff,
  halfJitterGenerator,
  handleWhen,
  retry,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
} from "cockatiel";

export interface BackoffOptions {
  /** The first retry waits between half of this and this, the second twice as long, and so on. */
  readonly baseDelayMs: number;
  /** No wait is longer, whether it comes from the backoff or from the upstream's Retry-After. */
  readonly maxDelayMs: number;
}

export const defaultBackoffOptions: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 30_000 };

/** What a failed attempt can be reported as when it has no HTTP status. */
export type FailureStatus = number | "timeout" | "network error";

/**
 * A failed attempt that is worth repeating: a 429, a 5xx, a timeout or a network error.
 * Its message is safe to show (it carries neither the token nor the upstream's text).
 */
export class RetryableFailure extends Error {
  readonly status: FailureStatus;
  /** How long the upstream asked us to wait before the next attempt, when it said so. */
  readonly retryAfterMs: number | undefined;

  constructor(status: FailureStatus, retryAfterMs?: number) {
    super(`attempt failed: ${status}`);
    this.name = "RetryableFailure";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** 429 (rate limited) and every 5xx are transient; other 4xx mean the request itself is wrong. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Milliseconds to wait according to a Retry-After header: either delay-seconds ("120") or an
 * HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"), a date in the past meaning "now".
 * Undefined when the header is missing or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  // RFC 9110 says whole seconds; a decimal is read leniently rather than ignored.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // A date always has letters (day and month names); this also keeps "-5" away from Date.parse.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

type RetryContext = IRetryBackoffContext<unknown>;

/**
 * Exponential backoff with "equal" jitter (attempt n waits a random time in [d/2, d), where
 * d = min(maxDelayMs, baseDelayMs * 2^(n-1))), overridden by the wait the upstream asked for.
 * The exponential sequence advances on every retry, hinted or not.
 */
export class RetryAfterBackoff implements IBackoffFactory<RetryContext> {
  private readonly exponential: ExponentialBackoff<number>;

  constructor(private readonly options: BackoffOptions = defaultBackoffOptions) {
    if (!(options.baseDelayMs >= 0) || !(options.maxDelayMs >= 0)) throw new RangeError("backoff delays must be non-negative");
    this.exponential = new ExponentialBackoff({
      generator: halfJitterGenerator,
      initialDelay: options.baseDelayMs,
      maxDelay: options.maxDelayMs,
      exponent: 2,
    });
  }

  next(context: RetryContext): IBackoff<RetryContext> {
    return this.step(this.exponential.next(), context);
  }

  private step(exponential: IBackoff<unknown>, context: RetryContext): IBackoff<RetryContext> {
    const hint = requestedWait(context);
    const duration = hint === undefined ? exponential.duration : hint;
    return {
      duration: Math.min(this.options.maxDelayMs, Math.max(0, duration)),
      next: (nextContext) => this.step(exponential.next(nextContext), nextContext),
    };
  }
}

function requestedWait(context: RetryContext): number | undefined {
  const result = context.result;
  return "error" in result && result.error instanceof RetryableFailure ? result.error.retryAfterMs : undefined;
}

/**
 * Up to `maxRetries` retries of RetryableFailure; anything else thrown ends the loop at once.
 * The timer between attempts is unreferenced: when the caller gives up (see runWithRetries) a
 * pending wait must not keep the process alive.
 */
export function createRetryPolicy(maxRetries: number, options: BackoffOptions = defaultBackoffOptions): RetryPolicy {
  return retry(
    handleWhen((error) => error instanceof RetryableFailure),
    { maxAttempts: maxRetries, backoff: new RetryAfterBackoff(options) },
  ).dangerouslyUnref();
}

/**
 * Runs `attempt` under the policy, and stops as soon as `signal` aborts, even in the middle of a
 * wait (cockatiel checks the signal only between attempts and sleeps uninterruptibly).
 * `attempt` must itself refuse to start once the signal has aborted: after such an early stop,
 * the loop wakes up once more in the background, calls it, and ends there.
 */
export async function runWithRetries<T>(
  policy: RetryPolicy,
  attempt: (signal: AbortSignal) => Promise<T>,
  signal: AbortSignal,
  whenAborted: () => Error,
): Promise<T> {
  if (signal.aborted) throw whenAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(whenAborted());
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([policy.execute(({ signal: loopSignal }) => attempt(loopSignal), signal), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
