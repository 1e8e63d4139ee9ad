import { describe, expect, it } from "vitest";
import { createCaller } from "../../../src/auth/caller.js";
import { createRateLimiter } from "../../../src/auth/rate_limiter.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { failureOf } from "../../support/failure_of.js";

const alice = createCaller("user", "alice");
const bob = createCaller("user", "bob");

describe("createRateLimiter (in process)", () => {
  it("lets a principal make its limit of calls a minute, then answers 429 rate_limited with Retry-After", async () => {
    const limiter = createRateLimiter({ perMinute: 3, keyPrefix: "rate:" }, undefined, silentLogger);
    for (let i = 0; i < 3; i++) await limiter.consume(alice);
    const error = await failureOf(limiter.consume(alice));
    expect(error.code).toBe("rate_limited");
    const retryAfter = Number(error.headers?.["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.details).toMatchObject({ limitPerMinute: 3, retryAfterSeconds: retryAfter });
  });

  it("counts each principal on its own", async () => {
    const limiter = createRateLimiter({ perMinute: 1, keyPrefix: "rate:" }, undefined, silentLogger);
    await limiter.consume(alice);
    await expect(limiter.consume(alice)).rejects.toMatchObject({ code: "rate_limited" });
    await expect(limiter.consume(bob)).resolves.toBeUndefined();
  });

  it("is off at 0", async () => {
    const limiter = createRateLimiter({ perMinute: 0, keyPrefix: "rate:" }, undefined, silentLogger);
    for (let i = 0; i < 1000; i++) await limiter.consume(alice);
  });
});
