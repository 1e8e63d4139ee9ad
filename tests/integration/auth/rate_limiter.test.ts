import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCaller } from "../../../src/auth/caller.js";
import { createRateLimiter } from "../../../src/auth/rate_limiter.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { createRedisClient } from "../../../src/memory/redis_client.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";

const clients = [createRedisClient(inject("redisUrl"), silentLogger), createRedisClient(inject("redisUrl"), silentLogger)];

beforeAll(async () => {
  // Until a connection is ready the limiter counts in the process (the insurance limiter).
  await Promise.all(clients.map((c) => c.ping()));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
});

describe("createRateLimiter with Redis", () => {
  it("shares one count between two instances of the app, per principal", async () => {
    const settings = { perMinute: 4, keyPrefix: `test:rate:${randomUUID()}:` };
    const [first, second] = clients.map((redis) => createRateLimiter(settings, redis, silentLogger)) as [
      ReturnType<typeof createRateLimiter>,
      ReturnType<typeof createRateLimiter>,
    ];
    const alice = createCaller("user", "alice");
    await first.consume(alice);
    await second.consume(alice);
    await first.consume(alice);
    await second.consume(alice);
    const error = await failureOf(first.consume(alice));
    expect(error.code).toBe("rate_limited");
    expect(Number(error.headers?.["retry-after"])).toBeGreaterThan(0);
    await expect(second.consume(createCaller("user", "bob"))).resolves.toBeUndefined();
    const prefix = settings.keyPrefix.replace(/:$/, "");
    const keys = (await clients[0]!.keys(`${prefix}*`)).sort();
    expect(keys).toEqual([`${prefix}:${alice.principalKey}`, `${prefix}:${createCaller("user", "bob").principalKey}`].sort());
  });

  it("keeps limiting in this process while Redis cannot be reached", async () => {
    const down = createRedisClient(`redis://127.0.0.1:${await freePort()}`, silentLogger);
    try {
      const limiter = createRateLimiter({ perMinute: 2, keyPrefix: "rate:" }, down, silentLogger);
      const carol = createCaller("user", "carol");
      await limiter.consume(carol);
      await limiter.consume(carol);
      await expect(limiter.consume(carol)).rejects.toMatchObject({ code: "rate_limited" });
    } finally {
      down.disconnect();
    }
  });
});
