import { AppError } from "../src/errors/app_error.js";
import { decisionRequestSchema } from "../src/http/api_schemas.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readJsonBody } from "../src/http/request_body.js";
import { isRunId } from "../src/runs/run_message.js";

export const approvalsDecide = defineHttpFunction({
  handler: async (request, { services, caller }) => {
    const runId = request.params.runId;
    if (!isRunId(runId)) {
      throw new AppError("invalid_request", "runId must be 1-128 letters, digits, '_' or '-'", { details: { field: "runId" } });
    }
    const body = await readJsonBody(request, decisionRequestSchema, services.config.http.maxBodyBytes);
    return jsonResponse(200, await services.approvals.decide(caller, runId, body.decision, body.reason));
  },
});
