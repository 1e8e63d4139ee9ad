import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { callerPluginSchema } from "../src/plugins/plugin_registry.js";

const pluginListSchema = z.object({ plugins: z.array(callerPluginSchema) }).meta({ id: "PluginList" });

export type PluginList = z.infer<typeof pluginListSchema>;

export const pluginsList = defineHttpFunction({
  operationId: "listPlugins",
  summary: "The plugins the caller may run, each with its input schema and the channels it may use",
  responses: { 200: { description: "The caller's catalogue.", body: pluginListSchema } },
  // Only what this caller may run, on some channel, each with the channels it may use.
  handler: async (_request, { services, caller }) => jsonResponse(200, { plugins: services.registry.describeFor(caller, services.policy) }),
});
