import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";

export const approvalsList = defineHttpFunction({
  handler: async (_request, { services, caller }) => {
    const approvals = await services.approvals.list(caller);
    // Requests are decided and expire as others look: nothing between here and the approver may keep an old list.
    return jsonResponse(200, { approvals }, { "cache-control": "no-store" });
  },
});
