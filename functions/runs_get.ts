import { AppError } from "../src/errors/app_error.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { isRunId } from "../src/runs/run_message.js";

export const runsGet = defineHttpFunction({
  handler: async (request, { services, caller }) => {
    const runId = request.params.runId;
    if (!isRunId(runId)) {
      throw new AppError("invalid_request", "runId must be 1-128 letters, digits, '_' or '-'", { details: { field: "runId" } });
    }
    const run = await services.runs.status(caller, runId);
    // A run changes state until it is finished; nothing between here and the caller may keep an old answer.
    return jsonResponse(200, run, { "cache-control": "no-store" });
  },
});
