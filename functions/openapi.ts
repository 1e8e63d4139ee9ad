import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import type { OpenApiDocument } from "../src/http/openapi_document.js";

/**
 * A caller route, not a public one: the document lists the plugins this caller may run, as
 * GET /api/plugins does, and a plugin's description can name configuration (the shell plugin's
 * allowed commands) that the policy keeps from other callers.
 */
export const openApi = defineHttpFunction({
  operationId: "openapi",
  summary: "This document, with the plugins the caller may run",
  responses: { 200: { description: "An OpenAPI 3.1 document.", body: z.custom<OpenApiDocument>().meta({ type: "object" }) } },
  handler: async (_request, { services, caller }) => jsonResponse(200, services.openApi.forCaller(caller)),
});
