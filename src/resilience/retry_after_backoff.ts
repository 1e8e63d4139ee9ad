/**
 * The backoff every retried call to another service uses (Hugging Face, the language models):
 * exponential with jitter, unless the failed response said how long to wait, which is then
 * honoured up to a cap. cockatiel runs the retry loop; this decides the waits.
 */
import { ExponentialBackoff, halfJitterGenerator, type IBackoff, type IBackoffFactory, type IRetryBackoffContext } from "cockatiel";

export interface BackoffOptions {
  /** The first retry waits between half of this and this, the second twice as long, and so on. */
  readonly baseDelayMs: number;
  /** No wait is longer, whether it comes from the backoff or from the upstream's Retry-After. */
  readonly maxDelayMs: number;
}

/** 429 (rate limited) and every 5xx are transient; other statuses mean the request itself is wrong. */
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
 * Exponential backoff with "equal" jitter (retry n waits a random time in [d/2, d), where
 * d = min(maxDelayMs, baseDelayMs * 2^(n-1))), replaced by the wait the upstream asked for, which
 * `requestedWait` reads off the failure. The exponential sequence advances on every retry,
 * hinted or not.
 */
export class RetryAfterBackoff implements IBackoffFactory<RetryContext> {
  private readonly exponential: ExponentialBackoff<unknown>;

  constructor(
    private readonly options: BackoffOptions,
    private readonly requestedWait: (error: unknown) => number | undefined,
  ) {
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
    const result = context.result;
    const hint = "error" in result ? this.requestedWait(result.error) : undefined;
    return {
      duration: Math.min(this.options.maxDelayMs, Math.max(0, hint ?? exponential.duration)),
      next: (nextContext) => this.step(exponential.next(nextContext), nextContext),
    };
  }
}
