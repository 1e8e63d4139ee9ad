import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** Results of plugins that declare a cache TTL, keyed by plugin and input. Values are JSON. */
export interface ResultCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
}

/** plugin name + SHA-256 of the input with object keys sorted, so that {a,b} and {b,a} share an entry. */
export function resultCacheKey(plugin: string, input: unknown): string {
  return `${plugin}:${createHash("sha256").update(stableJson(input)).digest("hex")}`;
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export class RedisResultCache implements ResultCache {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(key: string): Promise<unknown> {
    const raw = await this.redis.get(this.keyPrefix + key);
    return raw === null ? undefined : JSON.parse(raw);
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keyPrefix + key, JSON.stringify(value), "EX", ttlSeconds);
  }
}

/** The embedded default: bounded in entries, the oldest written dropped first. */
export class InProcessResultCache implements ResultCache {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<unknown> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.json);
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { json: JSON.stringify(value), expiresAt: this.now() + ttlSeconds * 1000 });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
