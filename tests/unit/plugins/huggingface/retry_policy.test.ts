import type { IBackoff, IRetryBackoffContext } from "cockatiel";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  RetryAfterBackoff,
  RetryableFailure,
  createRetryPolicy,
  isRetryableStatus,
  parseRetryAfter,
  runWithRetries,
} from "../../../../plugins/huggingface/retry_policy.js";

type Context = IRetryBackoffContext<unknown>;

function contextOf(error: Error, attempt = 1): Context {
  return { attempt, signal: new AbortController().signal, result: { error } };
}

/** The first `count` delays of a backoff, every failure being `error`. */
function delays(backoff: RetryAfterBackoff, count: number, error: (n: number) => Error = () => new RetryableFailure(500)): number[] {
  const out: number[] = [];
  let current: IBackoff<Context> | undefined;
  for (let n = 1; n <= count; n++) {
    const context = contextOf(error(n), n);
    current = current ? current.next(context) : backoff.next(context);
    out.push(current.duration);
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T12:00:00Z");

  it.each<[string, number]>([
    ["1", 1000],
    ["0", 0],
    [" 120 ", 120_000],
    ["1.5", 1500],
  ])("reads delay-seconds %j as %i ms", (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it("reads an HTTP date as the time until then", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 12:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
  });

  it("reads an HTTP date in the past as no wait", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 11:59:00 GMT", now)).toBe(0);
  });

  it.each([null, undefined, "", "  ", "-5", "soon", "1e3", "Thursday, never"])("ignores %j", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("isRetryableStatus", () => {
  it("retries 429 and 5xx, nothing else", () => {
    expect([429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 408, 413, 422, 600].some(isRetryableStatus)).toBe(false);
  });
});

describe("RetryAfterBackoff", () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1000 };
  /** Attempt n waits in [d/2, d), d = min(cap, base * 2^(n-1)). */
  const ceilings = [100, 200, 400, 800, 1000, 1000];

  it("grows exponentially with jitter: every delay within [d/2, d], capped", () => {
    for (let run = 0; run < 20; run++) {
      delays(new RetryAfterBackoff(options), ceilings.length).forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(ceilings[i]! / 2);
        expect(delay).toBeLessThanOrEqual(ceilings[i]!);
      });
    }
  });

  it("is jittered: two sequences differ", () => {
    const first = delays(new RetryAfterBackoff(options), 6);
    const second = delays(new RetryAfterBackoff(options), 6);
    expect(first).not.toEqual(second);
  });

  it("reaches both ends of the jitter range", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    expect(delays(new RetryAfterBackoff(options), 6)).toEqual([50, 100, 200, 400, 500, 500]);
    vi.spyOn(Math, "random").mockReturnValue(0.9999999);
    expect(delays(new RetryAfterBackoff(options), 6)).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it("waits exactly what the upstream asked for instead, up to the cap", () => {
    const hinted = (ms: number) => () => new RetryableFailure(429, ms);
    expect(delays(new RetryAfterBackoff(options), 3, hinted(700))).toEqual([700, 700, 700]);
    expect(delays(new RetryAfterBackoff(options), 2, hinted(60_000))).toEqual([1000, 1000]);
    expect(delays(new RetryAfterBackoff(options), 1, hinted(0))).toEqual([0]);
  });

  it("keeps counting attempts while hints are honoured", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const error = (n: number) => (n === 1 || n === 2 ? new RetryableFailure(429, 10) : new RetryableFailure(500));
    expect(delays(new RetryAfterBackoff(options), 4, error)).toEqual([10, 10, 200, 400]);
  });

  it("ignores hints on errors it does not know", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const foreign = Object.assign(new Error("x"), { retryAfterMs: 9999 });
    expect(delays(new RetryAfterBackoff(options), 1, () => foreign)).toEqual([50]);
  });
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
    await expect(runWithRetries(createRetryPolicy(0), async () => 42, signal, () => new Error("x"))).resolves.toBe(42);
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
