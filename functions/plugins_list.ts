import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";

export const pluginsList = defineHttpFunction({
  // Only what this caller may run, on some channel, each with the channels it may use.
  handler: async (_request, { services, caller }) => jsonResponse(200, { plugins: services.registry.describeFor(caller, services.policy) }),
});
