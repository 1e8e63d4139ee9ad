import { afterEach, describe, expect, it, vi } from "vitest";
import { RetryableFailure, createRetryPolicy, runWithRetries } from "../../../../plugins/huggingface/retry_policy.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createRetryPolicy", () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 5 };

  it("retries a RetryableFailure up to maxRetries times, then throws the last failure", async () => {
    let calls = 0;
    const policy = createRetryPolicy(3, fast);
    await expect(
      policy.execute(() => {
        calls += 1;
        throw new RetryableFailure(503);
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(4);
  });

  it("returns the first success", async () => {
    let calls = 0;
    const policy = createRetryPolicy(3, fast);
    const result = await policy.execute(() => {
      calls += 1;
      if (calls < 3) throw new RetryableFailure("timeout");
      return "done";
    });
    expect(result).toBe("done");
    expect(calls).toBe(3);
  });

  it("does not retry any other error", async () => {
    let calls = 0;
    const policy = createRetryPolicy(3, fast);
    await expect(
      policy.execute(() => {
        calls += 1;
        throw new Error("bad request");
      }),
    ).rejects.toThrow("bad request");
    expect(calls).toBe(1);
  });

  it("waits what Retry-After asked between attempts", async () => {
    const at: number[] = [];
    const policy = createRetryPolicy(1, { baseDelayMs: 1, maxDelayMs: 1000 });
    await policy.execute(() => {
      at.push(performance.now());
      if (at.length === 1) throw new RetryableFailure(429, 150);
      return "ok";
    });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(140);
  });
});

describe("runWithRetries", () => {
  it("rejects as soon as the signal aborts, even in the middle of a long wait", async () => {
    const controller = new AbortController();
    let calls = 0;
    const policy = createRetryPolicy(5, { baseDelayMs: 1, maxDelayMs: 10_000 });
    const running = runWithRetries(
      policy,
      async (signal) => {
        if (signal.aborted) throw new Error("refused: aborted");
        calls += 1;
        throw new RetryableFailure(429, 10_000);
      },
      controller.signal,
      () => new Error("cancelled"),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    const abortedAt = performance.now();
    controller.abort();
    await expect(running).rejects.toThrow("cancelled");
    expect(performance.now() - abortedAt).toBeLessThan(150);
    expect(calls).toBe(1);
  });

  it("does not start when the signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const attempt = vi.fn(async () => "never");
    await expect(runWithRetries(createRetryPolicy(1), attempt, controller.signal, () => new Error("cancelled"))).rejects.toThrow("cancelled");
    expect(attempt).not.toHaveBeenCalled();
  });

  it("passes results and final errors through", async () => {
    const signal = new AbortController().signal;
    await expect(
      runWithRetries(
        createRetryPolicy(0),
        async () => 42,
        signal,
        () => new Error("x"),
      ),
    ).resolves.toBe(42);
    await expect(
      runWithRetries(
        createRetryPolicy(0),
        async () => {
          throw new RetryableFailure(500);
        },
        signal,
        () => new Error("x"),
      ),
    ).rejects.toBeInstanceOf(RetryableFailure);
  });
});
