import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";

/**
 * A caller route, not a public one: the document lists the plugins this caller may run, as
 * GET /api/plugins does, and a plugin's description can name configuration (the shell plugin's
 * allowed commands) that the policy keeps from other callers.
 */
export const openApi = defineHttpFunction({
  handler: async (_request, { services, caller }) => jsonResponse(200, services.openApi.forCaller(caller)),
});
