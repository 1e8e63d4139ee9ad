import type { SessionRef } from "../memory/session_ref.js";

/** What happened in a session, in the order it happened. The audit log is append-only. */
export type AuditEventType = "user_message" | "reply" | "tool_call" | "plugin_run" | "memory_cleared" | "approval_requested" | "approval_decided";

export interface AuditEvent {
  readonly type: AuditEventType;
  /** Message or reply text. */
  readonly content?: string;
  readonly source?: "plugin" | "llm";
  readonly plugin?: string;
  readonly runId?: string;
  readonly input?: unknown;
  readonly result?: unknown;
  /**
   * "success", or the error code the run ended with; for an approval_requested entry
   * "awaiting_approval", for an approval_decided one "approved", "denied" or "expired" (or, after
   * an "approved" whose run could not be queued, that error's code: the request waits again).
   */
  readonly outcome?: string;
  readonly errorMessage?: string;
  readonly durationMs?: number;
  /** approval_requested: until when an approver may decide. */
  readonly expiresAt?: string;
  /** approval_decided: the approver's principal id (none when the request expired). */
  readonly approver?: string;
  /** approval_decided: the reason the approver gave. */
  readonly reason?: string;
}

export interface AuditEntry extends AuditEvent {
  readonly id: string;
  readonly sessionId: string;
  readonly timestamp: string;
  /** Set when a field was longer than a table property may hold and was shortened. */
  readonly truncated?: boolean;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly nextCursor: string | null;
}

export interface AuditLog {
  /** The session is the caller's own: its partition includes the principal. */
  append(session: SessionRef, event: AuditEvent): Promise<AuditEntry>;
  /**
   * All entries of one turn, in order, as one entity-group transaction (several of at most 100
   * entities each when there are more): they are in the log together or not at all.
   */
  appendTurn(session: SessionRef, events: readonly AuditEvent[]): Promise<AuditEntry[]>;
  /** Oldest first; `cursor` is the opaque `nextCursor` of the previous page. */
  list(session: SessionRef, page: { limit: number; cursor?: string | undefined }): Promise<AuditPage>;
}
