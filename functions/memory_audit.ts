import { jsonResponse } from "../src/http/api_response.js";
import { auditPageQuerySchema, auditPageSchema, sessionIdPathSchema } from "../src/http/api_schemas.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { sessionRef } from "../src/memory/session_ref.js";

export const memoryAudit = defineHttpFunction({
  operationId: "auditLog",
  summary: "A session's audit log, oldest first, a page at a time (another caller's session reads as empty)",
  request: { params: sessionIdPathSchema, query: auditPageQuerySchema },
  responses: { 200: { description: "One page of the session's timeline.", body: auditPageSchema } },
  errors: ["invalid_request", "invalid_session_id", "storage_unavailable"],
  handler: async ({ params: { sessionId }, query }, { services, caller }) => {
    // Another principal's session reads as an empty one: the caller's own partition is the only one read.
    const page = await services.audit.list(sessionRef(caller, sessionId), query);
    return jsonResponse(200, { sessionId, entries: page.entries, nextCursor: page.nextCursor });
  },
});
