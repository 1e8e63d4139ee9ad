import { AppError } from "../src/errors/app_error.js";
import { auditPageQuerySchema, maxAuditPageSize } from "../src/http/api_schemas.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { assertSessionId } from "../src/memory/session_id.js";
import { sessionRef } from "../src/memory/session_ref.js";

export const memoryAudit = defineHttpFunction({
  handler: async (request, { services, caller }) => {
    const sessionId = assertSessionId(request.params.sessionId);
    const query = auditPageQuerySchema.safeParse({
      limit: request.query.get("limit") ?? undefined,
      cursor: request.query.get("cursor") ?? undefined,
    });
    if (!query.success) {
      throw new AppError("invalid_request", `limit must be a whole number from 1 to ${maxAuditPageSize}, cursor a value from nextCursor`, {
        details: { issues: query.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })) },
      });
    }
    // Another principal's session reads as an empty one: the caller's own partition is the only one read.
    const page = await services.audit.list(sessionRef(caller, sessionId), query.data);
    return jsonResponse(200, { sessionId, entries: page.entries, nextCursor: page.nextCursor });
  },
});
