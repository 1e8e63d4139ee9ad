import { AppError, describeThrown } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { MemoryMessage } from "../memory/memory_message.js";
import type { SessionMemory } from "../memory/session_memory.js";
import type { SessionRef } from "../memory/session_ref.js";
import type { AuditEvent, AuditLog } from "./audit_event.js";

export interface TurnStores {
  readonly audit: AuditLog;
  readonly memory: SessionMemory;
  readonly logger: Logger;
}

/**
 * What one turn of a session (a chat message, or an execute with a session) did, collected while
 * it runs and written once its outcome is known: its audit entries (user_message, tool_call,
 * plugin_run, memory_cleared, reply) and its memory messages, each in the order they happened.
 * Nothing is written while the turn runs; `commit` writes the audit entries as one transaction
 * (AuditLog.appendTurn) and then the messages as one MULTI (SessionMemory.append).
 */
export class TurnRecord {
  private readonly events: AuditEvent[] = [];
  private messages: MemoryMessage[] = [];
  private committed = false;

  constructor(readonly session: SessionRef) {}

  record(event: AuditEvent): void {
    this.assertOpen();
    this.events.push(event);
  }

  remember(message: MemoryMessage): void {
    this.assertOpen();
    this.messages.push(message);
  }

  /** The session's memory was cleared during the turn: what the turn remembered before it goes with it, as it always has. */
  forgetMessages(): void {
    this.messages = [];
  }

  get entries(): readonly AuditEvent[] {
    return this.events;
  }

  /**
   * The audit transaction is the commit point: once it is written the turn happened and the
   * answer is the log's; when it throws (storage_unavailable) nothing of the turn is in the log
   * and nothing is written to memory. Memory comes after it, so memory never holds a turn the log
   * lacks (the other order would need a compensating removal that can itself fail). Memory is the
   * model's recent context, a cache: a failed write is tried once more, then logged, and the turn
   * still stands; the next turn sees that much less history. A turn that failed because memory
   * could not be reached is not written to memory at all: each attempt would wait out the Redis
   * client's reconnects again, and the failure's answer would come that much later.
   */
  async commit(stores: TurnStores): Promise<void> {
    this.assertOpen();
    this.committed = true;
    await stores.audit.appendTurn(this.session, this.events);
    if (this.messages.length === 0) return;
    if (this.events.some((event) => event.outcome === "memory_unavailable")) {
      stores.logger.warn("session memory missed a recorded turn", { sessionId: this.session.sessionId, error: "memory was unavailable during the turn" });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await stores.memory.append(this.session, ...this.messages);
        return;
      } catch (error) {
        if (attempt >= 2) {
          stores.logger.warn("session memory missed a recorded turn", { sessionId: this.session.sessionId, error: describeThrown(error) });
          return;
        }
      }
    }
  }

  private assertOpen(): void {
    // A plugin abandoned at its timeout may still try to record; its turn is already in the log as it was answered.
    if (this.committed) throw new AppError("internal_error", "the turn was already recorded");
  }
}
