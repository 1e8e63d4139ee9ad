import type { MemoryMessage } from "./memory_message.js";
import type { SessionRef } from "./session_ref.js";

/**
 * Recent messages of each chat session: a capped, expiring list per session.
 * Both implementations pass the same contract tests (tests/integration/memory/). A session is
 * always a caller's own (SessionRef): its key includes the principal.
 */
export interface SessionMemory {
  /** Appends in order, trims to the cap and renews the session's time to live, atomically. */
  append(session: SessionRef, ...messages: MemoryMessage[]): Promise<void>;
  /** The newest `limit` messages (all that are kept when omitted), oldest first. */
  recent(session: SessionRef, limit?: number): Promise<MemoryMessage[]>;
  clear(session: SessionRef): Promise<void>;
  /** Throws when the store cannot be reached; used by the health check. */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly kind: "redis" | "in-process";
}

export interface SessionMemoryLimits {
  readonly maxMessages: number;
  readonly ttlSeconds: number;
}
