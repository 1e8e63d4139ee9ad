import { z } from "zod";
import { awaitingApprovalSchema, isAwaitingApproval, type AwaitingApproval } from "../src/approvals/approval_request.js";
import { AppError } from "../src/errors/app_error.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { runIdField, sessionIdField } from "../src/http/request_fields.js";
import { requestSignal } from "../src/http/request_signal.js";
import { pluginDataSchema } from "../src/plugins/plugin_input.js";
import { pluginRunErrors } from "../src/plugins/plugin_run_errors.js";
import { runIdSchema } from "../src/runs/run_message.js";
import { queuedRunSchema } from "../src/runs/run_service.js";

const executeRequestSchema = z
  .strictObject({
    plugin: z.string().min(1).max(64).meta({ description: "A plugin's name or alias, as listed by `GET /api/plugins`." }),
    data: pluginDataSchema.optional(),
    sessionId: sessionIdField.optional().meta({ description: "The session to use; a new one is started when omitted. 1-128 letters, digits, '_' or '-'." }),
    async: z.boolean().optional().meta({ description: "Queue the run and answer 202 at once; read the result from `GET /api/runs/{runId}`." }),
    runId: runIdField.optional().meta({ description: "The caller's own id for an asynchronous run (with `async: true` only)." }),
  })
  .meta({ id: "ExecuteRequest" });

/** A synchronous run's answer. */
const executeResultSchema = z
  .object({
    status: z.literal("success"),
    plugin: z.string().meta({ description: "The plugin's own name (also when called by an alias)." }),
    result: z.unknown().meta({ description: "Any JSON value." }),
    durationMs: z.number(),
    runId: runIdSchema,
    cached: z.boolean().meta({ description: "The result came from the result cache." }),
  })
  .meta({ id: "ExecuteResult" });

/** A run, sync or async, of a plugin whose runs wait for an approver. */
const awaitingApprovalRunSchema = awaitingApprovalSchema.extend({ status: z.literal("awaiting_approval") }).meta({ id: "AwaitingApprovalRun" });

export type ExecuteResult = z.infer<typeof executeResultSchema>;
export type AwaitingApprovalRun = z.infer<typeof awaitingApprovalRunSchema>;

export const pluginsExecute = defineHttpFunction({
  operationId: "executePlugin",
  summary: "Run a plugin; with `async: true`, queue the run",
  request: { body: executeRequestSchema },
  responses: {
    200: { description: "The plugin ran.", body: executeResultSchema },
    202: {
      description:
        "The run is queued (`async: true`), or, for a plugin whose runs wait for an approver (sync or async alike), " +
        "it awaits an approver's decision (`status`/`state` `awaiting_approval`) and runs once approved; read it from `Location`.",
      headers: { Location: { description: "`/api/runs/{runId}`", required: true } },
      body: z.union([queuedRunSchema, awaitingApprovalRunSchema]),
    },
  },
  errors: [...pluginRunErrors, "invalid_session_id", "run_exists"],
  handler: async ({ body, request }, { services, caller }) => {
    const { plugin, sessionId, runId } = body;
    const data = body.data ?? {};
    if (body.async) {
      const accepted = await services.runs.submit(caller, { plugin, data, sessionId, runId });
      return isAwaitingApproval(accepted) ? awaitingResponse(accepted) : jsonResponse(202, accepted, { location: accepted.location });
    }
    if (runId !== undefined) {
      throw new AppError("invalid_request", 'runId is accepted with "async": true only', { details: { field: "runId" } });
    }
    // The run stops when its client leaves; an async run (above) is the queue's and goes on.
    const run = await services.runner.execute({ caller, channel: "execute", plugin, data, sessionId, signal: requestSignal(request) });
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
