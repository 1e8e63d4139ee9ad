import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { decisionRequestSchema, decisionSchema } from "../src/http/api_schemas.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { runIdField } from "../src/http/request_fields.js";

export const approvalsDecide = defineHttpFunction({
  operationId: "decideApproval",
  summary: "For approvers: approve (the run then runs once, as its requester) or deny a pending request",
  description:
    "Exactly one decision wins: of approvers deciding at once, one gets 200 and the others 409 `approval_closed`. " +
    "A requester never decides their own request (but the one local caller of `AUTH_MODE=none`).",
  request: { params: z.object({ runId: runIdField }), body: decisionRequestSchema },
  responses: { 200: { description: "The decision, as recorded.", body: decisionSchema } },
  errors: ["approval_forbidden", "run_not_found", "approval_closed", "storage_unavailable"],
  handler: async ({ params, body }, { services, caller }) =>
    jsonResponse(200, await services.approvals.decide(caller, params.runId, body.decision, body.reason)),
});
