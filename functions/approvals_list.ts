import { z } from "zod";
import { approvalViewSchema } from "../src/approvals/approval_service.js";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";

const approvalListSchema = z
  .object({ approvals: z.array(approvalViewSchema).meta({ description: "The pending requests this approver may decide (not their own), oldest first." }) })
  .meta({ id: "ApprovalList" });

export type ApprovalList = z.infer<typeof approvalListSchema>;

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
