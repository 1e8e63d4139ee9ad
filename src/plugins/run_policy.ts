import { BulkheadRejectedError, TaskCancelledError } from "cockatiel";
import { onCallerAbort, type CallerSignal } from "../http/request_signal.js";
import { DeadlineList, type Deadline } from "../resilience/deadline_list.js";

/**
 * The timeout and bulkhead of one plugin's runs: what cockatiel's
 * `wrap(timeout(ms, { strategy: Aggressive, abortOnReturn: false }), bulkhead(slots, queue))` does,
 * with the same errors, in one object per run (PolicyRun, below) instead of cockatiel's derived AbortControllers,
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
  private readonly waiting: PolicyRun<unknown>[] = [];

  /** The deadlines of the runs not yet settled: one timer for all of them. */
  readonly deadlines: DeadlineList;

  constructor(
    readonly timeoutMs: number,
    private readonly maxConcurrency: number,
    private readonly maxQueue: number,
  ) {
    this.deadlines = new DeadlineList(timeoutMs);
  }

  execute<T>(fn: (context: { signal: AbortSignal }) => Promise<T>, callerSignal?: CallerSignal): Promise<T> {
    if (callerSignal?.aborted) return Promise.reject(new TaskCancelledError());
    const mustWait = this.active >= this.maxConcurrency;
    if (mustWait && this.waiting.length >= this.maxQueue) return Promise.reject(new BulkheadRejectedError(this.maxConcurrency, this.maxQueue));
    return new Promise<T>((resolve, reject) => {
      const run = new PolicyRun(this, fn, callerSignal, resolve, reject);
      this.deadlines.add(run);
      if (mustWait) {
        this.waiting.push(run as PolicyRun<unknown>);
      } else {
        this.active++;
        run.start();
      }
    });
  }

  /** A run gave its slot back: the next waiting run, if any, takes it over (in a microtask, as cockatiel's bulkhead dequeues); otherwise it is free. */
  release(): void {
    const next = this.waiting.shift();
    if (next) queueMicrotask(() => next.start());
    else this.active--;
  }
}

/**
 * One run under a policy: its deadline in the policy's list, the context handed to the plugin
 * (whose signal is made on first read) and the promise the caller waits on, as one object with
 * methods rather than a closure for each part (fewer objects per run, bench/README.md).
 */
class PolicyRun<T> implements Deadline {
  at = 0;
  previous: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  private settled = false;
  private cancelled = false;
  private controller: AbortController | undefined = undefined;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(
    private readonly policy: RunPolicy,
    private readonly fn: (context: { signal: AbortSignal }) => Promise<T>,
    callerSignal: CallerSignal | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.unsubscribe = callerSignal ? onCallerAbort(callerSignal, () => this.cancel("Operation cancelled")) : undefined;
  }

  /**
   * The plugin's signal, made when the plugin first reads it (most never do): an AbortController
   * is one of the dearest objects of a request. Cancelled before that, it is made aborted.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** The deadline came. */
  expire(): void {
    this.cancel(`Operation timed out after ${this.policy.timeoutMs}ms`);
  }

  /** The deadline came, or the caller left: the caller is answered now, whatever the plugin does. */
  private cancel(message: string): void {
    if (this.settled) return;
    this.settle();
    this.cancelled = true;
    this.controller?.abort();
    this.reject(new TaskCancelledError(message));
  }

  /** Its slot is free: runs the plugin, unless the run was cancelled while it waited (its turn then passes to the next). */
  start(): void {
    if (this.settled) return this.policy.release();
    let running: Promise<T>;
    try {
      running = this.fn(this);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => {
        this.policy.release();
        if (this.settled) return;
        this.settle();
        this.resolve(value);
      },
      (error: unknown) => {
        this.policy.release();
        if (this.settled) return;
        this.settle();
        this.reject(error);
      },
    );
  }

  private settle(): void {
    this.settled = true;
    this.policy.deadlines.remove(this);
    this.unsubscribe?.();
  }
}
