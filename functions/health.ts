import { jsonResponse } from "../src/http/api_response.js";
import { healthReportSchema } from "../src/health/health_check.js";
import { definePublicHttpFunction } from "../src/http/http_function.js";

/** Anonymous (platform probes call it) and free of caller data. */
export const health = definePublicHttpFunction({
  operationId: "health",
  summary: "Whether Redis, storage and the language model are reachable (probed at most about once a second)",
  responses: {
    200: {
      description:
        "Redis and storage are up (`status` `degraded` when the configured model is not, or storage has lost something the next write creates again).",
      body: healthReportSchema,
    },
    503: { description: "Redis or storage is down.", body: healthReportSchema },
  },
  handler: async (_request, { services }) => {
    const report = await services.health.check();
    return jsonResponse(report.status === "unhealthy" ? 503 : 200, report, { "cache-control": "no-store" });
  },
});
