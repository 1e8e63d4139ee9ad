import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { Services } from "../services.js";
import { errorResponse } from "./api_response.js";

/**
 * One HTTP function as data: the Functions entry (functions/main.ts) registers it with
 * `app.http`, and the local host serves the very same object, so there is one list of routes.
 */
export interface HttpFunction {
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Route template below the `api` prefix, as in host.json: `memory/audit/{sessionId}`. */
  readonly route: string;
  readonly handler: (request: HttpRequest, context: InvocationContext, services: Services) => Promise<HttpResponseInit>;
}

/** Wraps the handler so that every thrown error becomes the standard error body, in either host. */
export function defineHttpFunction(definition: HttpFunction): HttpFunction {
  return {
    ...definition,
    handler: async (request, context, services) => {
      try {
        return await definition.handler(request, context, services);
      } catch (error) {
        return errorResponse(error, services.logger.child({ function: definition.name, invocationId: context.invocationId }));
      }
    },
  };
}
