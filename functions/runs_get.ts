import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { runIdField } from "../src/http/request_fields.js";
import { runViewSchema } from "../src/runs/run_service.js";

export const runsGet = defineHttpFunction({
  operationId: "getRun",
  summary: "An asynchronous or queued run: its state and, once finished, its result or error",
  request: { params: z.object({ runId: runIdField }) },
  responses: { 200: { description: "The run.", body: runViewSchema } },
  errors: ["invalid_request", "run_not_found", "storage_unavailable"],
  handler: async ({ params }, { services, caller }) => {
    const run = await services.runs.status(caller, params.runId);
    // A run changes state until it is finished; nothing between here and the caller may keep an old answer.
    return jsonResponse(200, run, { "cache-control": "no-store" });
  },
});
