import { jsonResponse } from "../src/http/api_response.js";
import { approvalListSchema } from "../src/http/api_schemas.js";
import { defineHttpFunction } from "../src/http/http_function.js";

export const approvalsList = defineHttpFunction({
  operationId: "listApprovals",
  summary: "For approvers: the pending requests to run a plugin that they may decide (any requester's but their own)",
  responses: { 200: { description: "The pending requests, oldest first.", body: approvalListSchema } },
  errors: ["approval_forbidden", "storage_unavailable"],
  handler: async (_request, { services, caller }) => {
    const approvals = await services.approvals.list(caller);
    // Requests are decided and expire as others look: nothing between here and the approver may keep an old list.
    return jsonResponse(200, { approvals }, { "cache-control": "no-store" });
  },
});
