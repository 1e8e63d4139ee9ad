import { jsonResponse } from "../src/http/api_response.js";
import { definePublicHttpFunction } from "../src/http/http_function.js";

/** Anonymous (platform probes call it) and free of caller data. */
export const health = definePublicHttpFunction({
  handler: async (_request, { services }) => {
    const report = await services.health.check();
    return jsonResponse(report.status === "unhealthy" ? 503 : 200, report, { "cache-control": "no-store" });
  },
});
