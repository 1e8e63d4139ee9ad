import type { MemoryMessage } from "./memory_message.js";
import type { SessionMemory, SessionMemoryLimits } from "./session_memory.js";
import { sessionStorageKey, type SessionRef } from "./session_ref.js";

interface Entry {
  messages: MemoryMessage[];
  expiresAt: number;
}

/** The embedded default when REDIS_URL is unset: same cap and TTL semantics, one process only. */
export class InProcessSessionMemory implements SessionMemory {
  readonly kind = "in-process" as const;
  private readonly sessions = new Map<string, Entry>();

  constructor(
    private readonly limits: SessionMemoryLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async append(session: SessionRef, ...messages: MemoryMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const sessionId = sessionStorageKey(session);
    const current = this.live(sessionId)?.messages ?? [];
    const kept = [...current, ...messages.map((m) => structuredClone(m))].slice(-this.limits.maxMessages);
    this.sessions.set(sessionId, { messages: kept, expiresAt: this.now() + this.limits.ttlSeconds * 1000 });
    this.sweep();
  }

  async recent(session: SessionRef, limit?: number): Promise<MemoryMessage[]> {
    const sessionId = sessionStorageKey(session);
    const count = Math.min(limit ?? this.limits.maxMessages, this.limits.maxMessages);
    if (count <= 0) return [];
    return (this.live(sessionId)?.messages ?? []).slice(-count).map((m) => structuredClone(m));
  }

  async clear(session: SessionRef): Promise<void> {
    this.sessions.delete(sessionStorageKey(session));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.sessions.clear();
  }

  private live(sessionId: string): Entry | undefined {
    const entry = this.sessions.get(sessionId);
    if (entry && entry.expiresAt <= this.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return entry;
  }

  // Expired sessions are dropped on write as well as on read, so that memory stays bounded by live sessions.
  private sweep(): void {
    if (this.sessions.size % 256 !== 0) return;
    const now = this.now();
    for (const [id, entry] of this.sessions) if (entry.expiresAt <= now) this.sessions.delete(id);
  }
}
