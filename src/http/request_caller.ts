import type { Caller } from "../auth/caller.js";
import type { Services } from "../services.js";
import { checkOrigin } from "./origin_policy.js";

/**
 * Who sends a request, decided the same way for every route and every MCP tool call, in either
 * host: a browser page of a foreign origin is refused first (403 origin_not_allowed: a cross-site
 * form or text/plain POST must not run anything, whatever cookies it carries), then the caller is
 * authenticated (401 unauthorized).
 */
export function requestCaller(headers: Headers, services: Pick<Services, "config" | "authenticator">): Promise<Caller> {
  // Not an async function: the authenticator's promise is handed on as it is, without another promise around it.
  try {
    checkOrigin(headers.get("origin"), headers.get("host"), services.config.http);
    return services.authenticator.authenticate(headers);
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
