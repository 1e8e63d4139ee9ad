import type { AuditEntry, AuditEvent, AuditLog, AuditPage } from "../../src/audit/audit_event.js";
import { AppError } from "../../src/errors/app_error.js";

/** A fake of our own AuditLog interface for unit tests; the real one is tested against Azurite. */
export class RecordingAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  failWrites = false;
  private sequence = 0;

  async append(sessionId: string, event: AuditEvent): Promise<AuditEntry> {
    if (this.failWrites) throw new AppError("storage_unavailable", "audit log could not be written");
    const entry = { ...event, id: String(++this.sequence).padStart(6, "0"), sessionId, timestamp: new Date().toISOString() };
    this.entries.push(entry);
    return entry;
  }

  async list(sessionId: string, page: { limit: number }): Promise<AuditPage> {
    return { entries: this.of(sessionId).slice(0, page.limit), nextCursor: null };
  }

  async ping(): Promise<void> {}

  of(sessionId: string): AuditEntry[] {
    return this.entries.filter((e) => e.sessionId === sessionId);
  }
}
