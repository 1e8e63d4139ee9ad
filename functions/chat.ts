import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readJsonBody } from "../src/http/request_body.js";
import { assertSessionId } from "../src/memory/session_id.js";

const chatBody = z.strictObject({
  message: z.string().trim().min(1, "message must not be empty").max(32_000),
  sessionId: z.unknown().optional(),
});

export const chat = defineHttpFunction({
  name: "chat",
  methods: ["POST"],
  route: "chat",
  handler: async (request, _context, services) => {
    const body = await readJsonBody(request, chatBody, services.config.http.maxBodyBytes);
    const sessionId = body.sessionId === undefined ? undefined : assertSessionId(body.sessionId);
    const answer = await services.chat.handle({ message: body.message, sessionId });
    return jsonResponse(200, answer);
  },
});
