import { BulkheadRejectedError, TaskCancelledError } from "cockatiel";
import { describe, expect, it } from "vitest";
import { ClientDeparture } from "../../../src/http/request_signal.js";
import { RunPolicy } from "../../../src/plugins/run_policy.js";

const never = () => new Promise<never>(() => {});
const settleLater = () => {
  let done!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (done = resolve));
  return { promise, done };
};

describe("RunPolicy (a plugin's timeout and bulkhead)", () => {
  it("returns the run's value and leaves its signal alone after success", async () => {
    const policy = new RunPolicy(1000, 1, 0);
    let signal: AbortSignal | undefined;
    await expect(policy.execute(async (context) => ((signal = context.signal), "ok"))).resolves.toBe("ok");
    expect(signal!.aborted).toBe(false);
  });

  it("answers at the deadline even when the run ignores its signal, which is aborted; the slot is held until the run returns", async () => {
    const policy = new RunPolicy(30, 1, 0);
    const slow = settleLater();
    let signal: AbortSignal | undefined;
    const first = policy.execute((context) => ((signal = context.signal), slow.promise));
    await expect(first).rejects.toBeInstanceOf(TaskCancelledError);
    expect(signal!.aborted).toBe(true);
    // Still running: no slot and no queue place for another.
    await expect(policy.execute(async () => "next")).rejects.toBeInstanceOf(BulkheadRejectedError);
    slow.done("late");
    await new Promise((resolve) => setTimeout(resolve, 0));
    await expect(policy.execute(async () => "next")).resolves.toBe("next");
  });

  it("cancels with the caller: refused at once when already aborted, aborted and answered when it aborts during the run", async () => {
    const policy = new RunPolicy(1000, 1, 0);
    await expect(policy.execute(async () => "x", AbortSignal.abort())).rejects.toBeInstanceOf(TaskCancelledError);
    const caller = new AbortController();
    let signal: AbortSignal | undefined;
    const running = policy.execute((context) => ((signal = context.signal), never()), caller.signal);
    caller.abort();
    await expect(running).rejects.toBeInstanceOf(TaskCancelledError);
    expect(signal!.aborted).toBe(true);
  });

  it("cancels with a client's departure the same way, without making an AbortSignal for it", async () => {
    const policy = new RunPolicy(1000, 1, 0);
    const departure = new ClientDeparture();
    let signal: AbortSignal | undefined;
    const running = policy.execute((context) => ((signal = context.signal), never()), departure);
    departure.leave(new Error("gone"));
    await expect(running).rejects.toBeInstanceOf(TaskCancelledError);
    expect(signal!.aborted).toBe(true);
    await expect(policy.execute(async () => "x", departure)).rejects.toBeInstanceOf(TaskCancelledError);
    // A run that finished unsubscribed: leaving afterwards calls nothing of it.
    const other = new ClientDeparture();
    await expect(new RunPolicy(1000, 1, 0).execute(async () => "done", other)).resolves.toBe("done");
    expect(() => other.leave(new Error("late"))).not.toThrow();
  });

  it("queues past its slots in order, refuses past its queue, and counts the wait against the deadline", async () => {
    const policy = new RunPolicy(60, 1, 1);
    const first = settleLater();
    const order: string[] = [];
    const a = policy.execute(async () => (order.push("a"), first.promise));
    const b = policy.execute(async () => (order.push("b"), "b"));
    await expect(policy.execute(async () => "c")).rejects.toBeInstanceOf(BulkheadRejectedError);
    first.done("a");
    await expect(Promise.all([a, b])).resolves.toEqual(["a", "b"]);
    expect(order).toEqual(["a", "b"]);
    // A run that waits past its deadline is answered then and never started.
    const hold = settleLater();
    const held = policy.execute(() => hold.promise).catch((error: unknown) => error);
    let started = false;
    const waited = policy.execute(async () => ((started = true), "late"));
    await expect(waited).rejects.toBeInstanceOf(TaskCancelledError);
    hold.done("done");
    expect(await held).toBeInstanceOf(TaskCancelledError);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(started).toBe(false);
    await expect(policy.execute(async () => "free again")).resolves.toBe("free again");
  });

  it("answers each run at its own deadline, however the runs overlap and settle", async () => {
    const policy = new RunPolicy(60, 10, 0);
    const began = performance.now();
    const when = (run: Promise<unknown>) => run.then(
      () => ["resolved", performance.now() - began] as const,
      () => ["cancelled", performance.now() - began] as const,
    );
    const a = when(policy.execute(never));
    await new Promise((resolve) => setTimeout(resolve, 25));
    const b = when(policy.execute(never));
    // One that settles in time between them changes nothing for the others.
    const quick = when(policy.execute(async () => "quick"));
    const [[aState, aAt], [bState, bAt], [quickState]] = await Promise.all([a, b, quick]);
    expect(quickState).toBe("resolved");
    expect(aState).toBe("cancelled");
    expect(bState).toBe("cancelled");
    expect(aAt).toBeGreaterThanOrEqual(59);
    expect(aAt).toBeLessThan(bAt);
    expect(bAt).toBeGreaterThanOrEqual(84);
    // Started after the list ran empty: its own deadline again.
    const c0 = performance.now();
    await expect(policy.execute(never)).rejects.toBeInstanceOf(TaskCancelledError);
    expect(performance.now() - c0).toBeGreaterThanOrEqual(59);
  });

  it("makes the run's signal when it is first read, aborted if the run was cancelled before", async () => {
    const policy = new RunPolicy(20, 1, 0);
    let context: { signal: AbortSignal } | undefined;
    await expect(policy.execute((c) => ((context = c), never()))).rejects.toBeInstanceOf(TaskCancelledError);
    expect(context!.signal.aborted).toBe(true);
  });

  it("turns a run that throws synchronously into a rejection and frees its slot", async () => {
    const policy = new RunPolicy(1000, 1, 0);
    await expect(
      policy.execute(() => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(policy.execute(async () => "ok")).resolves.toBe("ok");
  });
});
