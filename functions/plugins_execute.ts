import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readJsonBody } from "../src/http/request_body.js";
import { assertSessionId } from "../src/memory/session_id.js";

const executeBody = z.strictObject({
  plugin: z.string().min(1).max(64),
  data: z.unknown().optional(),
  sessionId: z.unknown().optional(),
});

export const pluginsExecute = defineHttpFunction({
  name: "plugins-execute",
  methods: ["POST"],
  route: "plugins/execute",
  handler: async (request, _context, services) => {
    const body = await readJsonBody(request, executeBody, services.config.http.maxBodyBytes);
    const sessionId = body.sessionId === undefined ? undefined : assertSessionId(body.sessionId);
    const run = await services.execution.execute({ plugin: body.plugin, data: body.data ?? {}, sessionId });
    return jsonResponse(200, {
      status: "success",
      plugin: run.plugin,
      result: run.result,
      durationMs: run.durationMs,
      runId: run.runId,
      cached: run.cached,
    });
  },
});
