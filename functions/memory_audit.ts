import { z } from "zod";
import { AppError } from "../src/errors/app_error.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { assertSessionId } from "../src/memory/session_id.js";
import { sessionRef } from "../src/memory/session_ref.js";

const maxPageSize = 200;
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(maxPageSize).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

export const memoryAudit = defineHttpFunction({
  name: "memory-audit",
  methods: ["GET"],
  route: "memory/audit/{sessionId}",
  handler: async (request, { services, caller }) => {
    const sessionId = assertSessionId(request.params.sessionId);
    const query = pageQuery.safeParse({
      limit: request.query.get("limit") ?? undefined,
      cursor: request.query.get("cursor") ?? undefined,
    });
    if (!query.success) {
      throw new AppError("invalid_request", `limit must be a whole number from 1 to ${maxPageSize}, cursor a value from nextCursor`, {
        details: { issues: query.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })) },
      });
    }
    // Another principal's session reads as an empty one: the caller's own partition is the only one read.
    const page = await services.audit.list(sessionRef(caller, sessionId), query.data);
    return jsonResponse(200, { sessionId, entries: page.entries, nextCursor: page.nextCursor });
  },
});
