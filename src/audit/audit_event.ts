import { z } from "zod";
import type { SessionRef } from "../memory/session_ref.js";

/** What happened in a session, in the order it happened. The audit log is append-only. */
const auditEventSchema = z.object({
  type: z.enum(["user_message", "reply", "tool_call", "plugin_run", "memory_cleared", "approval_requested", "approval_decided"]),
  /** Message or reply text. */
  content: z.string().optional(),
  source: z.enum(["plugin", "llm"]).optional(),
  plugin: z.string().optional(),
  runId: z.string().optional(),
  input: z.unknown().optional(),
  result: z.unknown().optional(),
  outcome: z.string().optional().meta({
    description:
      "`success`, or the error code the run ended with; `awaiting_approval` for a request, `approved`, `denied` or `expired` for a decision (or, after an approval whose run could not be queued, that error's code: the request waits again).",
  }),
  errorMessage: z.string().optional(),
  durationMs: z.number().optional(),
  expiresAt: z.string().optional().meta({ description: "A request: until when an approver may decide it." }),
  approver: z.string().optional().meta({ description: "A decision: the approver's principal id (none when the request expired)." }),
  reason: z.string().optional().meta({ description: "A decision: the reason the approver gave." }),
});

export type AuditEvent = z.infer<typeof auditEventSchema>;

/** An event as the log holds it: where and when, under an id that sorts by time. */
export const auditEntrySchema = auditEventSchema
  .extend({
    id: z.string(),
    sessionId: z.string(),
    timestamp: z.string(),
    truncated: z.boolean().optional().meta({ description: "A field was longer than a table property may hold and was shortened." }),
  })
  .meta({ id: "AuditEntry" });

export type AuditEntry = z.infer<typeof auditEntrySchema>;

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
