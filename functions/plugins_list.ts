import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";

export const pluginsList = defineHttpFunction({
  name: "plugins-list",
  methods: ["GET"],
  route: "plugins",
  handler: async (_request, _context, services) => jsonResponse(200, { plugins: services.registry.describe() }),
});
