export interface RetryDelays {
  /** The wait after a first failure; each further failure doubles it. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * When a failing fetch may be tried again: not before `firstDelayMs` after a failure, twice as
 * long after each further one up to `maxDelayMs`, at once again after a success. It keeps a
 * failing endpoint from being fetched once per request.
 */
export class FetchBackoff {
  private failures = 0;
  private retryAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly delays: RetryDelays,
    private readonly now: () => number,
  ) {}

  /** Milliseconds until the next fetch may start; 0 when it may now. */
  remainingMs(): number {
    return Math.max(0, this.retryAt - this.now());
  }

  /** Records a failed fetch; returns the wait it starts. */
  failed(): number {
    const delay = Math.min(this.delays.firstDelayMs * 2 ** this.failures, this.delays.maxDelayMs);
    this.failures = Math.min(this.failures + 1, 30);
    this.retryAt = this.now() + delay;
    return delay;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = Number.NEGATIVE_INFINITY;
  }
}
