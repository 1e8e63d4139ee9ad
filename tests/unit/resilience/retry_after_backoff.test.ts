import type { IBackoff, IRetryBackoffContext } from "cockatiel";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RetryAfterBackoff, isRetryableStatus, parseRetryAfter } from "../../../src/resilience/retry_after_backoff.js";

type Context = IRetryBackoffContext<unknown>;

function contextOf(error: Error, attempt = 1): Context {
  return { attempt, signal: new AbortController().signal, result: { error } };
}

/** The first `count` delays of a backoff, every failure being `error`. */
/** A failure that says how long the upstream asked to wait, as RetryableFailure and LlmFailure do. */
class HintedFailure extends Error {
  constructor(readonly retryAfterMs?: number) {
    super("attempt failed");
  }
}

const hintOf = (error: unknown) => (error instanceof HintedFailure ? error.retryAfterMs : undefined);
const backoff = (options: { baseDelayMs: number; maxDelayMs: number }) => new RetryAfterBackoff(options, hintOf);

function delays(backoff: RetryAfterBackoff, count: number, error: (n: number) => Error = () => new HintedFailure()): number[] {
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
      delays(backoff(options), ceilings.length).forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(ceilings[i]! / 2);
        expect(delay).toBeLessThanOrEqual(ceilings[i]!);
      });
    }
  });

  it("is jittered: two sequences differ", () => {
    const first = delays(backoff(options), 6);
    const second = delays(backoff(options), 6);
    expect(first).not.toEqual(second);
  });

  it("reaches both ends of the jitter range", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    expect(delays(backoff(options), 6)).toEqual([50, 100, 200, 400, 500, 500]);
    vi.spyOn(Math, "random").mockReturnValue(0.9999999);
    expect(delays(backoff(options), 6)).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it("waits exactly what the upstream asked for instead, up to the cap", () => {
    const hinted = (ms: number) => () => new HintedFailure(ms);
    expect(delays(backoff(options), 3, hinted(700))).toEqual([700, 700, 700]);
    expect(delays(backoff(options), 2, hinted(60_000))).toEqual([1000, 1000]);
    expect(delays(backoff(options), 1, hinted(0))).toEqual([0]);
  });

  it("keeps counting attempts while hints are honoured", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const error = (n: number) => (n === 1 || n === 2 ? new HintedFailure(10) : new HintedFailure());
    expect(delays(backoff(options), 4, error)).toEqual([10, 10, 200, 400]);
  });

  it("ignores hints on errors it does not know", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const foreign = Object.assign(new Error("x"), { retryAfterMs: 9999 });
    expect(delays(backoff(options), 1, () => foreign)).toEqual([50]);
  });
});

describe("RetryAfterBackoff settings", () => {
  it("refuses negative delays", () => {
    expect(() => backoff({ baseDelayMs: -1, maxDelayMs: 10 })).toThrow(RangeError);
  });
});
