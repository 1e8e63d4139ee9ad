import { isAwaitingApproval, type AwaitingApproval } from "../src/approvals/approval_request.js";
import { AppError } from "../src/errors/app_error.js";
import { executeRequestSchema } from "../src/http/api_schemas.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readJsonBody } from "../src/http/request_body.js";
import { requestCallerSignal } from "../src/http/request_signal.js";
import { assertSessionId } from "../src/memory/session_id.js";
import { isRunId } from "../src/runs/run_message.js";

export const pluginsExecute = defineHttpFunction({
  handler: async (request, { services, caller }) => {
    const body = await readJsonBody(request, executeRequestSchema, services.config.http.maxBodyBytes);
    const sessionId = body.sessionId === undefined ? undefined : assertSessionId(body.sessionId);
    const data = body.data ?? {};
    if (body.async) {
      const accepted = await services.runs.submit(caller, { plugin: body.plugin, data, sessionId, runId: runIdOf(body.runId) });
      return isAwaitingApproval(accepted) ? awaitingResponse(accepted) : jsonResponse(202, accepted, { location: accepted.location });
    }
    if (body.runId !== undefined) {
      throw new AppError("invalid_request", "runId is accepted with \"async\": true only", { details: { field: "runId" } });
    }
    // The run stops when its client leaves; an async run (above) is the queue's and goes on.
    const run = await services.runner.execute({ caller, channel: "execute", plugin: body.plugin, data, sessionId, signal: requestCallerSignal(request) });
    if (isAwaitingApproval(run)) return awaitingResponse(run);
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

/** A run the policy holds for an approver, sync or async alike: 202, read it at Location. */
function awaitingResponse(awaiting: AwaitingApproval) {
  return jsonResponse(202, { status: awaiting.state, ...awaiting }, { location: awaiting.location });
}

function runIdOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (isRunId(value)) return value;
  throw new AppError("invalid_request", "runId must be 1-128 letters, digits, '_' or '-'", { details: { field: "runId" } });
}
