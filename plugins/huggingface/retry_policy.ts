/**
 * Retries for calls to Hugging Face: cockatiel runs the loop; the delay before each retry is
 * exponential with jitter, unless the failed response said how long to wait (Retry-After, or
 * the estimated_time of a model that is loading), which is then honoured up to a cap.
 */
import { handleWhen, retry, type RetryPolicy } from "cockatiel";
import { RetryAfterBackoff, type BackoffOptions } from "../../src/plugins/plugin.js";

export type { BackoffOptions } from "../../src/plugins/plugin.js";

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

/**
 * Up to `maxRetries` retries of RetryableFailure; anything else thrown ends the loop at once.
 * The timer between attempts is unreferenced: when the caller gives up (see runWithRetries) a
 * pending wait must not keep the process alive.
 */
export function createRetryPolicy(maxRetries: number, options: BackoffOptions = defaultBackoffOptions): RetryPolicy {
  return retry(
    handleWhen((error) => error instanceof RetryableFailure),
    { maxAttempts: maxRetries, backoff: new RetryAfterBackoff(options, (error) => (error instanceof RetryableFailure ? error.retryAfterMs : undefined)) },
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
