import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { AppError, describeThrown } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { Caller } from "./caller.js";

/** Requests per principal per minute, on every POST route and every MCP request; throws 429 rate_limited with Retry-After past the limit. */
export interface RateLimiter {
  consume(caller: Caller): Promise<void>;
}

export interface RateLimitSettings {
  /** 0 turns the limit off. */
  readonly perMinute: number;
  readonly keyPrefix: string;
}

/**
 * rate-limiter-flexible's fixed one-minute window per principal key: in Redis when it is
 * configured, so that every instance of the app counts against the same limit; in this process
 * otherwise. When Redis cannot be reached the in-process limiter stands in (the library's
 * insurance limiter), so an outage neither blocks every caller nor lifts the limit. The same
 * holds while the connection is still being made at start: those first requests are counted in
 * the process rather than held until Redis answers.
 */
const passed: Promise<void> = Promise.resolve();

export function createRateLimiter(settings: RateLimitSettings, redis: Redis | undefined, logger: Logger): RateLimiter {
  // Off: every request passes, with one settled promise for all of them rather than a new one each.
  if (settings.perMinute <= 0) return { consume: () => passed };
  const options = { points: settings.perMinute, duration: 60, keyPrefix: settings.keyPrefix.replace(/:$/, "") };
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) })
    : new RateLimiterMemory(options);
  return {
    consume: async (caller) => {
      try {
        await limiter.consume(caller.principalKey, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
          throw new AppError("rate_limited", `too many requests: at most ${settings.perMinute} a minute; try again in ${retryAfterSeconds} s`, {
            details: { limitPerMinute: settings.perMinute, retryAfterSeconds },
            headers: { "retry-after": String(retryAfterSeconds) },
          });
        }
        // Neither store answered: letting the request through beats failing it for a counter.
        logger.warn("rate limiter unavailable; request let through", { error: describeThrown(rejection) });
      }
    },
  };
}
