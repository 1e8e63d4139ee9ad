import { describe, expect, it } from "vitest";
import { FetchBackoff } from "../../../src/auth/fetch_backoff.js";

describe("FetchBackoff", () => {
  let now = 1_000_000;
  const clock = () => now;

  it("lets the first fetch go, then waits 30 s after a failure, doubling up to 5 min", () => {
    const backoff = new FetchBackoff({ firstDelayMs: 30_000, maxDelayMs: 300_000 }, clock);
    expect(backoff.remainingMs()).toBe(0);
    const delays = [];
    for (let i = 0; i < 6; i++) {
      delays.push(backoff.failed());
      expect(backoff.remainingMs()).toBe(delays.at(-1));
      now += delays.at(-1)! - 1;
      expect(backoff.remainingMs()).toBe(1);
      now += 1;
      expect(backoff.remainingMs()).toBe(0);
    }
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  });

  it("starts again from the first delay after a success", () => {
    const backoff = new FetchBackoff({ firstDelayMs: 30_000, maxDelayMs: 300_000 }, clock);
    backoff.failed();
    backoff.failed();
    backoff.succeeded();
    expect(backoff.remainingMs()).toBe(0);
    expect(backoff.failed()).toBe(30_000);
  });
});
