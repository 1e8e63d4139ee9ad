import type { ResultCache } from "../cache/result_cache.js";
import type { MemoryMessage } from "../memory/memory_message.js";
import type { SessionMemory } from "../memory/session_memory.js";
import type { SessionRef } from "../memory/session_ref.js";
import { redisSpan } from "./tracing.js";

/**
 * Redis calls as dependencies, at the level of the stores that make them: ioredis has no hooks,
 * and the instrumentation that patches it would not see the copy inside the bundle. Each span is
 * named by the command the Redis store sends for the operation (RedisSessionMemory,
 * RedisResultCache); keys, which hold principals and session ids, and values stay out.
 */
export function tracedRedisSessionMemory(memory: SessionMemory, target: string | undefined): SessionMemory {
  return {
    kind: memory.kind,
    append: (session: SessionRef, ...messages: MemoryMessage[]) => redisSpan("MULTI", () => memory.append(session, ...messages), target),
    recent: (session: SessionRef, limit?: number) => redisSpan("LRANGE", () => memory.recent(session, limit), target),
    clear: (session: SessionRef) => redisSpan("DEL", () => memory.clear(session), target),
    // The health check's probe: not a dependency call worth a span on every probe.
    ping: () => memory.ping(),
    close: () => memory.close(),
  };
}

export function tracedRedisResultCache(cache: ResultCache, target: string | undefined): ResultCache {
  return {
    get: (key) => redisSpan("GET", () => cache.get(key), target),
    set: (key, value, ttlSeconds) => redisSpan("SET", () => cache.set(key, value, ttlSeconds), target),
  };
}
