import { Redis } from "ioredis";
import type { Logger } from "../logging/logger.js";

/**
 * One ioredis connection per process. Commands fail fast (one retry, a command timeout) rather
 * than queueing for ever while Redis is down, so that a request gets memory_unavailable in time.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectTimeout: 3000,
    commandTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
  });
  let lastReported = 0;
  // Without a listener ioredis prints every reconnect error; one line every 10 s is enough, and
  // the URL (which may carry a password) is never logged.
  redis.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastReported < 10_000) return;
    lastReported = now;
    logger.warn("redis connection error", { error: error.message.replace(/\/\/[^@\s]*@/g, "//***@") });
  });
  return redis;
}
