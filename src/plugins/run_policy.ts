import { BulkheadRejectedError, TaskCancelledError } from "cockatiel";
import { onCallerAbort, type CallerSignal } from "../http/request_signal.js";

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
/** A run's place in the policy's list of deadlines. */
interface Deadline {
  readonly at: number;
  expire(message: string): void;
  previous: Deadline | undefined;
  next: Deadline | undefined;
}

export class RunPolicy {
  /** Slots taken: runs started, and runs a slot has been handed to. */
  private active = 0;
  /** Runs waiting for a slot, in order of arrival. */
  private readonly waiting: PolicyRun<unknown>[] = [];

  constructor(
    private readonly timeoutMs: number,
    private readonly maxConcurrency: number,
    private readonly maxQueue: number,
  ) {}

  execute<T>(fn: (context: { signal: AbortSignal }) => Promise<T>, callerSignal?: CallerSignal): Promise<T> {
    if (callerSignal?.aborted) return Promise.reject(new TaskCancelledError());
    const mustWait = this.active >= this.maxConcurrency;
    if (mustWait && this.waiting.length >= this.maxQueue) return Promise.reject(new BulkheadRejectedError(this.maxConcurrency, this.maxQueue));
    return new Promise<T>((resolve, reject) => {
      const run = new PolicyRun(this, fn, callerSignal, resolve, reject, performance.now() + this.timeoutMs);
      this.watch(run);
      if (mustWait) {
        this.waiting.push(run as PolicyRun<unknown>);
      } else {
        this.active++;
        run.start();
      }
    });
  }

  /**
   * The deadlines of the runs not yet settled, in order: every run of a policy has the same
   * timeout, so the order they started in is the order they expire in. One timer, set for the
   * first, serves them all, instead of a timer set and cleared per run (Node's timer list insert
   * and removal were most of the policy's cost per request). A run that settles is unlinked. The
   * timer stays set when none is left, but unreferenced, so that it does not keep the process
   * alive; it is referenced again by the next run.
   */
  private first: Deadline | undefined;
  private last: Deadline | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerReferenced = false;

  /** @internal for PolicyRun */
  watch(deadline: Deadline): void {
    deadline.previous = this.last;
    if (this.last) this.last.next = deadline;
    else this.first = deadline;
    this.last = deadline;
    if (!this.timer) {
      this.timer = setTimeout(() => this.expire(), this.timeoutMs);
      this.timerReferenced = true;
    } else if (!this.timerReferenced) {
      this.timer.ref();
      this.timerReferenced = true;
    }
  }

  /** @internal for PolicyRun */
  unwatch(deadline: Deadline): void {
    if (deadline.previous) deadline.previous.next = deadline.next;
    else if (this.first === deadline) this.first = deadline.next;
    else return; // not watched (any more)
    if (deadline.next) deadline.next.previous = deadline.previous;
    else this.last = deadline.previous;
    deadline.previous = deadline.next = undefined;
    if (!this.first && this.timer && this.timerReferenced) {
      this.timer.unref();
      this.timerReferenced = false;
    }
  }

  /** The timer fired: every run whose deadline has come is answered; the timer is set again for the next. */
  private expire(): void {
    this.timer = undefined;
    this.timerReferenced = false;
    const now = performance.now();
    let due = this.first;
    // Node's timers run on the event loop's clock, which can be up to a millisecond behind this one.
    while (due && due.at <= now + 1) {
      const next = due.next;
      this.unwatch(due);
      due.expire(`Operation timed out after ${this.timeoutMs}ms`);
      due = next;
    }
    // Runs started meanwhile (from an abort listener) may have set a timer for their own, later deadline.
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.first ? setTimeout(() => this.expire(), Math.max(1, this.first.at - now)) : undefined;
    this.timerReferenced = this.timer !== undefined;
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
    readonly at: number,
  ) {
    this.unsubscribe = callerSignal ? onCallerAbort(callerSignal, () => this.expire("Operation cancelled")) : undefined;
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

  /** The deadline came, or the caller left: the caller is answered now, whatever the plugin does. */
  expire(message: string): void {
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
    this.policy.unwatch(this);
    this.unsubscribe?.();
  }
}
