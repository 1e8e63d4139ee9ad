import { BulkheadRejectedError, TaskCancelledError } from "cockatiel";
import { describe, expect, it } from "vitest";
import { RunPolicy } from "../../../src/plugins/run_policy.js";

const never = () => new Promise<never>(() => {});
const settleLater = () => {
  let done!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (done = resolve));
  return { promise, done };
};
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A policy of `maxConcurrency` slots and `maxQueue` waiting places, of which one principal has `perPrincipal` (all by default). */
function policyOf(timeoutMs: number, maxConcurrency: number, maxQueue: number, perPrincipal = maxConcurrency): RunPolicy {
  return new RunPolicy({ timeoutMs, maxConcurrency, maxQueue, maxConcurrencyPerPrincipal: perPrincipal });
}

const alice = { principal: "alice" };
const bob = { principal: "bob" };

describe("RunPolicy (a plugin's timeout and bulkheads)", () => {
  it("returns the run's value and leaves its signal alone after success", async () => {
    const policy = policyOf(1000, 1, 0);
    let signal: AbortSignal | undefined;
    await expect(
      policy.execute(async (context) => {
        signal = context.signal;
        return "ok";
      }, alice),
    ).resolves.toBe("ok");
    expect(signal!.aborted).toBe(false);
  });

  it("answers at the deadline even when the run ignores its signal, which is aborted; the slot is held until the run returns", async () => {
    const policy = policyOf(30, 1, 0);
    const slow = settleLater();
    let signal: AbortSignal | undefined;
    const first = policy.execute((context) => {
      signal = context.signal;
      return slow.promise;
    }, alice);
    await expect(first).rejects.toBeInstanceOf(TaskCancelledError);
    expect(signal!.aborted).toBe(true);
    // Still running: no slot and no queue place for another.
    await expect(policy.execute(async () => "next", bob)).rejects.toBeInstanceOf(BulkheadRejectedError);
    slow.done("late");
    await turn();
    await expect(policy.execute(async () => "next", bob)).resolves.toBe("next");
  });

  it("cancels with the caller: refused at once when already aborted, aborted and answered when it aborts during the run", async () => {
    const policy = policyOf(1000, 1, 0);
    let ran = false;
    await expect(
      policy.execute(
        async () => {
          ran = true;
          return "x";
        },
        { ...alice, callerSignal: AbortSignal.abort() },
      ),
    ).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(
      policy.execute(
        async () => {
          ran = true;
          return "x";
        },
        { ...alice, nested: true, callerSignal: AbortSignal.abort() },
      ),
    ).rejects.toBeInstanceOf(TaskCancelledError);
    expect(ran).toBe(false);
    const caller = new AbortController();
    let signal: AbortSignal | undefined;
    const running = policy.execute(
      (context) => {
        signal = context.signal;
        return never();
      },
      { ...alice, callerSignal: caller.signal },
    );
    caller.abort();
    await expect(running).rejects.toBeInstanceOf(TaskCancelledError);
    expect(signal!.aborted).toBe(true);
  });

  it("does not start a run whose caller left already, and a run that finished no longer listens", async () => {
    const gone = new AbortController();
    gone.abort(new Error("gone"));
    await expect(policyOf(1000, 1, 0).execute(async () => "x", { ...alice, callerSignal: gone.signal })).rejects.toBeInstanceOf(TaskCancelledError);
    const later = new AbortController();
    let finishedSignal: AbortSignal | undefined;
    await expect(
      policyOf(1000, 1, 0).execute(
        async (context) => {
          finishedSignal = context.signal;
          return "done";
        },
        { ...alice, callerSignal: later.signal },
      ),
    ).resolves.toBe("done");
    later.abort(new Error("late"));
    expect(finishedSignal!.aborted).toBe(false);
  });

  it("queues past its slots in order, refuses past its queue, and counts the wait against the deadline", async () => {
    const policy = policyOf(60, 1, 1);
    const first = settleLater();
    const order: string[] = [];
    const a = policy.execute(async () => {
      order.push("a");
      return first.promise;
    }, alice);
    const b = policy.execute(async () => {
      order.push("b");
      return "b";
    }, bob);
    await expect(policy.execute(async () => "c", { principal: "carol" })).rejects.toBeInstanceOf(BulkheadRejectedError);
    first.done("a");
    await expect(Promise.all([a, b])).resolves.toEqual(["a", "b"]);
    expect(order).toEqual(["a", "b"]);
    // A run that waits past its deadline is answered then and never started.
    const hold = settleLater();
    const held = policy.execute(() => hold.promise, alice).catch((error: unknown) => error);
    let started = false;
    const waited = policy.execute(async () => {
      started = true;
      return "late";
    }, bob);
    await expect(waited).rejects.toBeInstanceOf(TaskCancelledError);
    hold.done("done");
    expect(await held).toBeInstanceOf(TaskCancelledError);
    await turn();
    expect(started).toBe(false);
    await expect(policy.execute(async () => "free again", alice)).resolves.toBe("free again");
  });

  it("passes a freed slot on past waiting runs that were cancelled, to the next one still waiting", async () => {
    const policy = policyOf(1000, 1, 2);
    const hold = settleLater();
    const held = policy.execute(() => hold.promise, alice);
    const caller = new AbortController();
    const gone = policy.execute(async () => "never", { ...bob, callerSignal: caller.signal });
    const next = policy.execute(async () => "next", { principal: "carol" });
    caller.abort();
    await expect(gone).rejects.toBeInstanceOf(TaskCancelledError);
    hold.done("held");
    await expect(held).resolves.toBe("held");
    // Nothing else finishes to wake it: the freed slot itself must reach it.
    await expect(next).resolves.toBe("next");
  });

  it("answers each run at its own deadline, however the runs overlap and settle", async () => {
    const policy = policyOf(60, 10, 0);
    const began = performance.now();
    const when = (run: Promise<unknown>) =>
      run.then(
        () => ["resolved", performance.now() - began] as const,
        () => ["cancelled", performance.now() - began] as const,
      );
    const a = when(policy.execute(never, alice));
    await new Promise((resolve) => setTimeout(resolve, 25));
    const b = when(policy.execute(never, alice));
    // One that settles in time between them changes nothing for the others.
    const quick = when(policy.execute(async () => "quick", alice));
    const [[aState, aAt], [bState, bAt], [quickState]] = await Promise.all([a, b, quick]);
    expect(quickState).toBe("resolved");
    expect(aState).toBe("cancelled");
    expect(bState).toBe("cancelled");
    expect(aAt).toBeGreaterThanOrEqual(59);
    expect(aAt).toBeLessThan(bAt);
    expect(bAt).toBeGreaterThanOrEqual(84);
  });

  it("turns a run that throws synchronously into a rejection and frees its slot", async () => {
    const policy = policyOf(1000, 1, 0);
    await expect(
      policy.execute(() => {
        throw new Error("boom");
      }, alice),
    ).rejects.toThrow("boom");
    await expect(policy.execute(async () => "ok", alice)).resolves.toBe("ok");
  });
});

describe("RunPolicy: a principal's share", () => {
  it("gives one principal at most its share of the slots; its other runs wait their turn while another principal's run starts at once", async () => {
    const policy = policyOf(1000, 4, 4, 2);
    const gates = [settleLater(), settleLater(), settleLater()];
    const started: string[] = [];
    const alices = gates.map((gate, i) =>
      policy.execute(async () => {
        started.push(`alice-${i}`);
        return gate.promise;
      }, alice),
    );
    await turn();
    expect(started).toEqual(["alice-0", "alice-1"]);
    await expect(
      policy.execute(async () => {
        started.push("bob");
        return "bob";
      }, bob),
    ).resolves.toBe("bob");
    expect(started).toEqual(["alice-0", "alice-1", "bob"]);
    gates[0]!.done("a0");
    await turn();
    expect(started).toEqual(["alice-0", "alice-1", "bob", "alice-2"]);
    gates[1]!.done("a1");
    gates[2]!.done("a2");
    await expect(Promise.all(alices)).resolves.toEqual(["a0", "a1", "a2"]);
  });

  it("refuses a principal's run past its share and its queue, while others still run", async () => {
    const policy = policyOf(1000, 4, 1, 1);
    const hold = settleLater();
    const first = policy.execute(() => hold.promise, alice);
    const waiting = policy.execute(async () => "second", alice);
    await expect(policy.execute(async () => "third", alice)).rejects.toBeInstanceOf(BulkheadRejectedError);
    await expect(policy.execute(async () => "bob", bob)).resolves.toBe("bob");
    hold.done("first");
    await expect(Promise.all([first, waiting])).resolves.toEqual(["first", "second"]);
  });

  it("counts a principal's wait for its share against the deadline", async () => {
    const policy = policyOf(40, 4, 4, 1);
    const hold = settleLater();
    const held = policy.execute(() => hold.promise, alice).catch((error: unknown) => error);
    let started = false;
    await expect(
      policy.execute(async () => {
        started = true;
        return "late";
      }, alice),
    ).rejects.toBeInstanceOf(TaskCancelledError);
    hold.done("done");
    expect(await held).toBeInstanceOf(TaskCancelledError);
    await turn();
    expect(started).toBe(false);
  });

  it("keeps a principal's share only while it has runs in flight, also past a deadline, until the run returns", async () => {
    const policy = policyOf(30, 100, 100, 2);
    await Promise.all(Array.from({ length: 100 }, (_, i) => policy.execute(async () => i, { principal: `p${i}` })));
    expect(policy.principalsInFlight).toBe(0);
    const refused = await Promise.all(
      Array.from({ length: 20 }, (_, i) => policy.execute(async () => i, { principal: `q${i}`, callerSignal: AbortSignal.abort() }).catch(() => "no")),
    );
    expect(refused.every((r) => r === "no")).toBe(true);
    expect(policy.principalsInFlight).toBe(0);
    const slow = settleLater();
    await expect(policy.execute(() => slow.promise, alice)).rejects.toBeInstanceOf(TaskCancelledError);
    expect(policy.principalsInFlight).toBe(1);
    slow.done("late");
    await turn();
    expect(policy.principalsInFlight).toBe(0);
    // A share of every slot is none: nothing is kept per principal.
    const unshared = policyOf(1000, 2, 0);
    const running = unshared.execute(() => slow.promise, alice);
    expect(unshared.principalsInFlight).toBe(0);
    await running;
  });
});

describe("RunPolicy: a nested run", () => {
  it("runs inside the slot of the run it is nested in, so it never waits for a slot its own ancestors hold", async () => {
    const policy = policyOf(500, 1, 1);
    const outer = policy.execute(async () => {
      // The only slot is this run's: a run that took a slot of its own would wait for it until the deadline.
      const inner = await policy.execute(async () => "inner", { ...alice, nested: true });
      return `outer(${inner})`;
    }, alice);
    await expect(outer).resolves.toBe("outer(inner)");
  });

  it("still has its own deadline and its caller's cancellation", async () => {
    const policy = policyOf(30, 1, 0);
    await expect(policy.execute(never, { ...alice, nested: true })).rejects.toBeInstanceOf(TaskCancelledError);
    const caller = new AbortController();
    const running = policy.execute(never, { ...alice, nested: true, callerSignal: caller.signal });
    caller.abort();
    await expect(running).rejects.toBeInstanceOf(TaskCancelledError);
  });
});
