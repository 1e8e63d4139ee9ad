import { defineHttpFunction } from "../src/http/http_function.js";
import { serveMcp } from "../src/mcp/mcp_endpoint.js";
import { resourceMetadataChallenge } from "../src/mcp/protected_resource_metadata.js";

/**
 * The MCP endpoint (Streamable HTTP, the 2026-07-28 protocol and the 2025 one's stateless
 * fallback), served by the official SDK: the plugins as tools. Every request, whatever its method,
 * is authenticated and counted against the caller's rate limit before the SDK sees it; a 401 in
 * jwt mode names the endpoint's OAuth metadata, where an MCP client finds how to sign its user in.
 */
export const mcp = defineHttpFunction({
  rateLimitsEveryRequest: true,
  challengeParameters: resourceMetadataChallenge,
  handler: serveMcp,
});
