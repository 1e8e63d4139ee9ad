import { z } from "zod";
import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction, type HttpFunction, type HttpHandler } from "../src/http/http_function.js";
import { OpenApiDocuments, type OpenApiDocument } from "../src/http/openapi_document.js";
import { memoize } from "../src/lazy/deferred.js";
import type { Services } from "../src/services.js";

/**
 * The document of `functions` (every HTTP function of the app, functions/registrations.ts), generated
 * from their contracts once they are loaded, on the first request. A caller route, not a public one:
 * the document lists the plugins this caller may run, as GET /api/plugins does, and a plugin's
 * description can name configuration (the shell plugin's allowed commands) that the policy keeps
 * from other callers.
 */
export function openApi(functions: readonly { load(): Promise<HttpFunction> }[]): HttpHandler<"caller"> {
  const loaded = memoize(async () => Promise.all(functions.map((fn) => fn.load())));
  const documents = new WeakMap<Services, OpenApiDocuments>();
  return defineHttpFunction({
    operationId: "openapi",
    summary: "This document, with the plugins the caller may run",
    responses: { 200: { description: "An OpenAPI 3.1 document.", body: z.custom<OpenApiDocument>().meta({ type: "object" }) } },
    handler: async (_request, { services, caller }) => {
      let built = documents.get(services);
      if (!built) {
        built = new OpenApiDocuments(await loaded(), services.registry, services.policy, services.config.version);
        documents.set(services, built);
      }
      return jsonResponse(200, built.forCaller(caller));
    },
  });
}
