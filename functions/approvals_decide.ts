import { z } from "zod";
import { maxReasonChars } from "../src/approvals/approval_request.js";
import { decisionViewSchema } from "../src/approvals/approval_service.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { runIdField } from "../src/http/request_fields.js";

const decisionRequestSchema = z
  .strictObject({
    decision: z.enum(["approve", "deny"]).meta({ description: "`approve` runs the request once, as its requester; `deny` closes it." }),
    reason: z.string().trim().min(1).max(maxReasonChars).optional().meta({ description: "Why; recorded with the decision in the requester's timeline." }),
  })
  .meta({ id: "DecisionRequest" });

export const approvalsDecide = defineHttpFunction({
  operationId: "decideApproval",
  summary: "For approvers: approve (the run then runs once, as its requester) or deny a pending request",
  description:
    "Exactly one decision wins: of approvers deciding at once, one gets 200 and the others 409 `approval_closed`. " +
    "A requester never decides their own request (but the one local caller of `AUTH_MODE=none`).",
  request: { params: z.object({ runId: runIdField }), body: decisionRequestSchema },
  responses: { 200: { description: "The decision, as recorded.", body: decisionViewSchema } },
  errors: ["approval_forbidden", "run_not_found", "approval_closed", "storage_unavailable"],
  handler: async ({ params, body }, { services, caller }) =>
    jsonResponse(200, await services.approvals.decide(caller, params.runId, body.decision, body.reason)),
});
