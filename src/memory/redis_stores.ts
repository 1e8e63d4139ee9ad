import type { TokenCredential } from "@azure/identity";
import type { Redis } from "ioredis";
import { RedisResultCache, type ResultCache } from "../cache/result_cache.js";
import type { AppConfig } from "../config/config.js";
import type { Logger } from "../logging/logger.js";
import { tracedRedisResultCache, tracedRedisSessionMemory } from "../telemetry/traced_stores.js";
import { createEntraRedisClient } from "./entra_redis_client.js";
import { createRedisClient } from "./redis_client.js";
import { RedisSessionMemory } from "./redis_session_memory.js";
import type { SessionMemory } from "./session_memory.js";

export interface RedisStores {
  readonly store: SessionMemory;
  readonly cache: ResultCache;
  readonly redis: Redis;
  close(): Promise<void>;
}

/**
 * Session memory and the result cache in Redis: with Microsoft Entra ID (REDIS_HOST, in Azure) or
 * by URL (REDIS_URL). Imported by src/services.ts only when one of them is configured.
 */
export function createRedisStores(config: AppConfig, logger: Logger, credential: () => TokenCredential): RedisStores {
  const limits = { maxMessages: config.memory.maxMessages, ttlSeconds: config.memory.ttlSeconds };
  const entra = config.memory.redisEntra;
  if (entra) {
    const client = createEntraRedisClient({ ...entra, credential: credential(), logger: logger.child({ component: "redis" }) });
    const target = `${entra.host}:${entra.port}`;
    return {
      store: tracedRedisSessionMemory(new RedisSessionMemory(client.redis, limits, config.memory.keyPrefix), target),
      cache: tracedRedisResultCache(new RedisResultCache(client.redis, config.plugins.cacheKeyPrefix), target),
      redis: client.redis,
      // Also stops the token refresh timer, which closing the connection alone would leave.
      close: () => client.close(),
    };
  }
  const url = config.memory.redisUrl!;
  const redis = createRedisClient(url, logger);
  const store = new RedisSessionMemory(redis, limits, config.memory.keyPrefix);
  // Host and port only: a redis:// URL may carry a password.
  const target = redisTarget(url);
  return {
    store: tracedRedisSessionMemory(store, target),
    cache: tracedRedisResultCache(new RedisResultCache(redis, config.plugins.cacheKeyPrefix), target),
    redis,
    close: () => store.close(),
  };
}

function redisTarget(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "6379"}`;
  } catch {
    return undefined;
  }
}
