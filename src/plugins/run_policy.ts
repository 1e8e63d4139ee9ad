import { TaskCancelledError, TimeoutStrategy, bulkhead, timeout, type BulkheadPolicy, type TimeoutPolicy } from "cockatiel";

export interface RunPolicyLimits {
  readonly timeoutMs: number;
  /** Runs of the plugin at a time. */
  readonly maxConcurrency: number;
  /** Of those, runs of one principal at a time. */
  readonly maxConcurrencyPerPrincipal: number;
  /** Runs waiting for a slot of the plugin, and runs of one principal waiting for its share; one more is refused. */
  readonly maxQueue: number;
}

/** One run as the policy sees it: whose it is, whether a run of the same plugin holds a slot for it already, what cancels it. */
export interface PolicyRun {
  readonly principal: string;
  /** Nested in a run of the same plugin: it runs inside that run's slot and takes none of its own. */
  readonly nested?: boolean | undefined;
  readonly callerSignal?: AbortSignal | undefined;
}

/**
 * The timeout and bulkheads of one plugin's runs, composed from cockatiel: a timeout around the
 * principal's share around the plugin's slots.
 *
 * - The timeout is outside the bulkheads: time spent waiting for a slot counts.
 * - Aggressive: at the deadline the caller is answered (TaskCancelledError) even if the plugin
 *   ignores its abort signal; the plugin's slot stays taken until it does return.
 * - The plugin's signal aborts at the deadline and when the caller's signal aborts (which also
 *   answers the caller with TaskCancelledError); it is not aborted after the run succeeds.
 * - Past `maxConcurrency` runs, up to `maxQueue` wait in order; one more is refused at once
 *   (BulkheadRejectedError). A waiting run cancelled by its deadline or its caller is skipped when
 *   its turn comes.
 * - One principal has at most `maxConcurrencyPerPrincipal` of the slots; its other runs wait, up
 *   to `maxQueue` of them, in a queue of its own, so that one principal cannot take every slot
 *   and another's run still starts. A principal's share is kept only while it has runs in flight;
 *   a share of every slot (one caller, AUTH_MODE=none) is none at all.
 * - A nested run (`nested`) takes no slot: it runs inside the slot of the run of the same plugin it
 *   is nested in, so that it never waits for a slot its own ancestors hold.
 */
export class RunPolicy {
  private readonly deadline: TimeoutPolicy;
  private readonly slots: BulkheadPolicy;
  /** The principals with runs in flight (running or waiting), each with its share and how many runs it has in it. */
  private readonly shares = new Map<string, { readonly bulkhead: BulkheadPolicy; runs: number }>();

  constructor(private readonly limits: RunPolicyLimits) {
    this.deadline = timeout(limits.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.slots = bulkhead(limits.maxConcurrency, limits.maxQueue);
  }

  get timeoutMs(): number {
    return this.limits.timeoutMs;
  }

  /** How many principals have runs in flight; for tests of the bookkeeping's bounds. */
  get principalsInFlight(): number {
    return this.shares.size;
  }

  execute<T>(fn: (context: { signal: AbortSignal }) => Promise<T>, run: PolicyRun): Promise<T> {
    const { callerSignal } = run;
    // Gone before it started: nothing runs.
    if (callerSignal?.aborted) return Promise.reject(new TaskCancelledError());
    if (run.nested) return this.deadline.execute(fn, callerSignal);
    return this.deadline.execute(({ signal: runSignal }) => {
      const inSlots = () => this.slots.execute(fn, runSignal);
      return this.limits.maxConcurrencyPerPrincipal < this.limits.maxConcurrency ? this.inShare(run.principal, inSlots, runSignal) : inSlots();
    }, callerSignal);
  }

  private async inShare<T>(principal: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    let share = this.shares.get(principal);
    if (!share) {
      share = { bulkhead: bulkhead(this.limits.maxConcurrencyPerPrincipal, this.limits.maxQueue), runs: 0 };
      this.shares.set(principal, share);
    }
    share.runs++;
    try {
      return await share.bulkhead.execute(fn, signal);
    } finally {
      // Settled only once its slot is given back (or it was refused or skipped): none of the principal's runs is left in its share.
      if (--share.runs === 0) this.shares.delete(principal);
    }
  }
}
