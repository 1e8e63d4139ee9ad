import type { AuditEntry, AuditEvent, AuditLog, AuditPage } from "../../src/audit/audit_event.js";
import { AppError } from "../../src/errors/app_error.js";
import { sessionStorageKey, type SessionRef } from "../../src/memory/session_ref.js";

/** A fake of our own AuditLog interface for unit tests; the real one is tested against Azurite. */
export class RecordingAuditLog implements AuditLog {
  /** Every entry in the order written, as append returned it (an entry carries the plain session id). */
  readonly entries: AuditEntry[] = [];
  failWrites = false;
  /** Each appendTurn call (one transaction), as the entries it wrote, in order. */
  readonly turns: AuditEntry[][] = [];
  /** How many single-entry append calls there were (outside any turn). */
  appends = 0;
  private sequence = 0;
  /** The session (principal key and session id) each entry of `entries` was written to, by index. */
  private readonly sessions: string[] = [];

  async append(session: SessionRef, event: AuditEvent): Promise<AuditEntry> {
    if (this.failWrites) throw new AppError("storage_unavailable", "audit log could not be written");
    this.appends++;
    return this.write(session, event);
  }

  /** All or nothing, like the table's transaction: a failing write leaves no entry of the turn. */
  async appendTurn(session: SessionRef, events: readonly AuditEvent[]): Promise<AuditEntry[]> {
    if (this.failWrites) throw new AppError("storage_unavailable", "audit log could not be written");
    const written = events.map((event) => this.write(session, event));
    this.turns.push(written);
    return written;
  }

  private write(session: SessionRef, event: AuditEvent): AuditEntry {
    const entry = { ...event, id: String(++this.sequence).padStart(6, "0"), sessionId: session.sessionId, timestamp: new Date().toISOString() };
    this.entries.push(entry);
    this.sessions.push(sessionStorageKey(session));
    return entry;
  }

  async list(session: SessionRef, page: { limit: number }): Promise<AuditPage> {
    return { entries: this.of(session).slice(0, page.limit), nextCursor: null };
  }

  /** The entries of one caller's session: the same session id under another principal is another session. */
  of(session: SessionRef): AuditEntry[] {
    const key = sessionStorageKey(session);
    return this.entries.filter((_entry, index) => this.sessions[index] === key);
  }
}
