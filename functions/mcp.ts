import { z } from "zod";
import { defineHttpFunction } from "../src/http/http_function.js";
import { serveMcp } from "../src/mcp/mcp_endpoint.js";
import { resourceMetadataChallenge } from "../src/mcp/protected_resource_metadata.js";
import { sessionIdHeader, sessionIdPattern } from "../src/memory/session_id.js";

/**
 * The MCP endpoint (Streamable HTTP, the 2026-07-28 protocol and the 2025 one's stateless
 * fallback), served by the official SDK: the plugins as tools. Every request, whatever its method,
 * is authenticated and counted against the caller's rate limit before the SDK sees it; a 401 in
 * jwt mode names the endpoint's OAuth metadata, where an MCP client finds how to sign its user in.
 */
export const mcp = defineHttpFunction({
  operationId: "mcp",
  summary: "MCP: the plugins the caller may run, as tools (the 2025 revision's `GET` stream and `DELETE` of a session are not served: 405)",
  description:
    "MCP (Model Context Protocol) over Streamable HTTP, served by the official SDK: the 2026-07-28 revision (stateless; " +
    "`server/discover`, the protocol version in each request's `_meta`) and, for 2025-era clients, its stateless fallback " +
    "(`initialize`, `tools/list`, `tools/call`). Use an MCP client (docs/mcp-clients.md). The tools are the plugins " +
    "the caller may run on the mcp channel. A tool call that fails answers a result with `isError: true` whose text starts " +
    "with the error code, `error (<code>): <message>`, not a JSON-RPC error. Every request counts against the caller's rate " +
    'limit. In `jwt` mode a 401 names the endpoint\'s OAuth metadata (`WWW-Authenticate: Bearer resource_metadata="..."`).',
  request: {
    headers: z.object({
      // Checked where a tool call reads it: a malformed one fails that call as a tool result, as MCP reports tool errors.
      [sessionIdHeader]: z
        .string()
        .optional()
        .meta({ pattern: sessionIdPattern.source, description: "A session whose audit log records the tool calls, as with `sessionId` elsewhere." }),
    }),
    rawBody: "A JSON-RPC 2.0 request or notification of MCP.",
  },
  responses: {
    200: {
      description: "The JSON-RPC response: `application/json`, or `text/event-stream` when the SDK streams it.",
      content: { "application/json": "A JSON-RPC 2.0 response of MCP.", "text/event-stream": "Server-sent events carrying JSON-RPC messages." },
    },
    202: { description: "A notification or response was accepted (nothing to answer)." },
    default: {
      description:
        "MCP's own answers: 400 with a JSON-RPC error for a message that is not MCP, 404 for a method the revision removed, 405 for the " +
        "2025 revision's `GET` stream and `DELETE` of a session (the server keeps none), 406 when `Accept` does not name what the answer may be.",
      content: { "application/json": "A JSON-RPC 2.0 error response." },
    },
  },
  errors: ["payload_too_large"],
  rateLimitsEveryRequest: true,
  challengeParameters: resourceMetadataChallenge,
  handler: async ({ request }, scope) => serveMcp(request, scope),
});
