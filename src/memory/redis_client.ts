import { Redis, type RedisOptions } from "ioredis";
import type { LogFields, Logger } from "../logging/logger.js";

/**
 * How every Redis connection of the app behaves: commands fail fast (one retry, a command
 * timeout) rather than queueing for ever while Redis is down, so that a request gets
 * memory_unavailable in time; reconnects back off up to 2 s.
 */
export const failFastRedisOptions = {
  connectTimeout: 3000,
  commandTimeout: 3000,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
} satisfies RedisOptions;

/**
 * Without an error listener ioredis prints every reconnect error; one warning every 10 s is
 * enough. Callers pass fields already free of secrets.
 */
export function throttledConnectionWarning(logger: Logger, now: () => number = Date.now): (fields: LogFields) => void {
  let lastReported = Number.NEGATIVE_INFINITY;
  return (fields) => {
    const at = now();
    if (at - lastReported < 10_000) return;
    lastReported = at;
    logger.warn("redis connection error", fields);
  };
}

/** One ioredis connection per process, by URL. The URL (which may carry a password) is never logged. */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { ...failFastRedisOptions, lazyConnect: false });
  const warn = throttledConnectionWarning(logger);
  redis.on("error", (error: Error) => warn({ error: error.message.replace(/\/\/[^@\s]*@/g, "//***@") }));
  return redis;
}
