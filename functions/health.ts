import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";

export const health = defineHttpFunction({
  name: "health",
  methods: ["GET"],
  route: "health",
  handler: async (_request, _context, services) => {
    const report = await services.health.check();
    return jsonResponse(report.status === "unhealthy" ? 503 : 200, report, { "cache-control": "no-store" });
  },
});
