import type { Redis } from "ioredis";
import { AppError } from "../errors/app_error.js";
import { memoryMessageSchema, type MemoryMessage } from "./memory_message.js";
import type { SessionMemory, SessionMemoryLimits } from "./session_memory.js";
import { sessionStorageKey, type SessionRef } from "./session_ref.js";

export class RedisSessionMemory implements SessionMemory {
  readonly kind = "redis" as const;

  constructor(
    private readonly redis: Redis,
    private readonly limits: SessionMemoryLimits,
    private readonly keyPrefix: string,
  ) {}

  async append(session: SessionRef, ...messages: MemoryMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const key = this.key(session);
    // One MULTI: the list never exceeds the cap and never lives without a TTL, in one round trip.
    // All three commands name the same key, so the transaction also holds on a clustered Redis
    // (one hash slot), whatever clustering policy an Azure Managed Redis database has.
    const results = await this.unavailableOnError(() =>
      this.redis
        .multi()
        .rpush(key, ...messages.map((m) => JSON.stringify(m)))
        .ltrim(key, -this.limits.maxMessages, -1)
        .expire(key, this.limits.ttlSeconds)
        .exec(),
    );
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) {
      throw new AppError("memory_unavailable", "session memory could not be written", { cause: failed?.[0] });
    }
  }

  async recent(session: SessionRef, limit?: number): Promise<MemoryMessage[]> {
    const count = Math.min(limit ?? this.limits.maxMessages, this.limits.maxMessages);
    if (count <= 0) return [];
    const raw = await this.unavailableOnError(() => this.redis.lrange(this.key(session), -count, -1));
    return raw.flatMap((item) => {
      // A value another writer left in an unexpected shape is skipped rather than failing the session.
      try {
        const parsed = memoryMessageSchema.safeParse(JSON.parse(item));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }

  async clear(session: SessionRef): Promise<void> {
    await this.unavailableOnError(() => this.redis.del(this.key(session)));
  }

  async ping(): Promise<void> {
    await this.unavailableOnError(() => this.redis.ping());
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** `<prefix><principalKey>:<sessionId>`: one principal's session can never be another's. */
  private key(session: SessionRef): string {
    return `${this.keyPrefix}${sessionStorageKey(session)}`;
  }

  private async unavailableOnError<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new AppError("memory_unavailable", "session memory is unavailable", { cause: error });
    }
  }
}
