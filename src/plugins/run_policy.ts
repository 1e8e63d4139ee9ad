import { BulkheadRejectedError, TaskCancelledError } from "cockatiel";

/**
 * The timeout and bulkhead of one plugin's runs: what cockatiel's
 * `wrap(timeout(ms, { strategy: Aggressive, abortOnReturn: false }), bulkhead(slots, queue))` does,
 * with the same errors, in one closure per run instead of cockatiel's derived AbortControllers,
 * event emitters and promise race on every call (bench/README.md, "Where the time goes").
 *
 * - The timeout is outside the bulkhead: time spent waiting for a slot counts.
 * - Aggressive: at the deadline the caller is answered (TaskCancelledError) even if the plugin
 *   ignores its abort signal; the plugin's slot stays taken until it does return.
 * - The plugin's signal aborts at the deadline and when the caller's signal aborts (which also
 *   answers the caller with TaskCancelledError); it is not aborted after the run succeeds.
 * - Past `maxConcurrency` runs, up to `maxQueue` wait in order; one more is refused at once
 *   (BulkheadRejectedError). A waiting run cancelled by its deadline or its caller keeps its queue
 *   place until its turn comes, and is then skipped.
 */
export class RunPolicy {
  /** Slots taken: runs started, and runs a slot has been handed to. */
  private active = 0;
  /** Runs waiting for a slot, in order of arrival. */
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly timeoutMs: number,
    private readonly maxConcurrency: number,
    private readonly maxQueue: number,
  ) {}

  execute<T>(fn: (context: { signal: AbortSignal }) => Promise<T>, callerSignal?: AbortSignal): Promise<T> {
    if (callerSignal?.aborted) return Promise.reject(new TaskCancelledError());
    const mustWait = this.active >= this.maxConcurrency;
    if (mustWait && this.waiting.length >= this.maxQueue) return Promise.reject(new BulkheadRejectedError(this.maxConcurrency, this.maxQueue));
    // The run's signal is made when the plugin first reads it (most never do): an AbortController
    // is one of the dearest objects of a request. Cancelled before that, it is made aborted.
    let controller: AbortController | undefined;
    let cancelled = false;
    const context = {
      get signal(): AbortSignal {
        if (!controller) {
          controller = new AbortController();
          if (cancelled) controller.abort();
        }
        return controller.signal;
      },
    };
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        callerSignal?.removeEventListener("abort", onCallerAbort);
      };
      const cancel = (message: string) => {
        if (settled) return;
        settle();
        cancelled = true;
        controller?.abort();
        reject(new TaskCancelledError(message));
      };
      const onCallerAbort = () => cancel("Operation cancelled");
      const timer = setTimeout(cancel, this.timeoutMs, `Operation timed out after ${this.timeoutMs}ms`);
      callerSignal?.addEventListener("abort", onCallerAbort);
      const start = () => {
        // Cancelled while it waited: its turn passes to the next.
        if (settled) return this.release();
        let running: Promise<T>;
        try {
          running = fn(context);
        } catch (error) {
          running = Promise.reject(error);
        }
        running.then(
          (value) => {
            this.release();
            if (settled) return;
            settle();
            resolve(value);
          },
          (error: unknown) => {
            this.release();
            if (settled) return;
            settle();
            reject(error);
          },
        );
      };
      if (mustWait) {
        this.waiting.push(start);
      } else {
        this.active++;
        start();
      }
    });
  }

  /** A run gave its slot back: the next waiting run, if any, takes it over (in a microtask, as cockatiel's bulkhead dequeues); otherwise it is free. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) queueMicrotask(next);
    else this.active--;
  }
}
