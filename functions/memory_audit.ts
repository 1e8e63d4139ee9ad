import { z } from "zod";
import { auditEntrySchema } from "../src/audit/audit_event.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { sessionIdField } from "../src/http/request_fields.js";
import { sessionRef } from "../src/memory/session_ref.js";

const auditPageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: "Entries per page." }),
  cursor: z.string().min(1).max(512).optional().meta({ description: "The `nextCursor` of the previous page." }),
});

/** Oldest first. */
const auditPageSchema = z
  .object({
    sessionId: z.string(),
    entries: z.array(auditEntrySchema),
    nextCursor: z.string().nullable().meta({ description: "Pass it as `cursor` for the next page; null on the last one." }),
  })
  .meta({ id: "AuditPage" });

export type AuditPage = z.infer<typeof auditPageSchema>;

export const memoryAudit = defineHttpFunction({
  operationId: "auditLog",
  summary: "A session's audit log, oldest first, a page at a time (another caller's session reads as empty)",
  request: { params: z.object({ sessionId: sessionIdField }), query: auditPageQuerySchema },
  responses: { 200: { description: "One page of the session's timeline.", body: auditPageSchema } },
  errors: ["invalid_request", "invalid_session_id", "storage_unavailable"],
  handler: async ({ params: { sessionId }, query }, { services, caller }) => {
    // Another principal's session reads as an empty one: the caller's own partition is the only one read.
    const page = await services.audit.list(sessionRef(caller, sessionId), query);
    return jsonResponse(200, { sessionId, entries: page.entries, nextCursor: page.nextCursor });
  },
});
