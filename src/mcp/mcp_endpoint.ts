import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { CallerScope } from "../http/http_function.js";
import { requestSignal } from "../http/request_signal.js";
import { memoize } from "../lazy/deferred.js";
import { sessionIdHeader } from "../memory/session_id.js";
import type { Services } from "../services.js";
import { toFetchExchange, toHttpResponse } from "./fetch_exchange.js";
import type { McpEndpoint } from "./mcp_server.js";

/**
 * The server module and the MCP SDK with it, loaded on the first MCP request: neither host loads
 * it at start (the local host loads every function's module then), and the bundles keep it in a
 * chunk of its own.
 */
const serverModule = memoize(() => import("./mcp_server.js"));
let requested = false;

/** One endpoint (one SDK handler and tool catalogue) per services, that is per host. */
const endpoints = new WeakMap<Services, Promise<McpEndpoint>>();

function endpointOf(services: Services): Promise<McpEndpoint> {
  let endpoint = endpoints.get(services);
  if (!endpoint) {
    requested = true;
    endpoint = serverModule().then(({ createMcpEndpoint }) => createMcpEndpoint(services));
    endpoint.catch(() => endpoints.delete(services));
    endpoints.set(services, endpoint);
  }
  return endpoint;
}

/**
 * One request to the MCP endpoint, its caller already authenticated and counted by the route
 * (functions/mcp.ts): served by the SDK, which answers what it does not serve (405 for a GET or a
 * DELETE of the 2025 protocol's sessions) itself.
 */
export async function serveMcp(request: HttpRequest, { services, caller }: CallerScope): Promise<HttpResponseInit> {
  const [endpoint, exchange] = await Promise.all([endpointOf(services), toFetchExchange(request, services.config.http.maxBodyBytes)]);
  const sessionId = request.headers.get(sessionIdHeader) ?? undefined;
  // A client that leaves stops the run made for it; the SDK's answer then goes nowhere.
  return toHttpResponse(await endpoint.fetch(exchange, { caller, sessionId, signal: requestSignal(request) }));
}

/** Whether an MCP request has loaded the SDK in this process; for the tests of its lazy loading. */
export async function mcpSdkLoaded(): Promise<boolean> {
  return (
    requested &&
    (await serverModule().then(
      () => true,
      () => false,
    ))
  );
}
