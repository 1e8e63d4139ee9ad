import type { IncomingMessage, ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import type { Caller } from "../auth/caller.js";
import { errorResponse } from "../http/api_response.js";
import { requestCaller } from "../http/request_caller.js";
import type { Services } from "../services.js";
import { flattenHeaders } from "../host/http_request_adapter.js";
import { writeResponse } from "../host/response_writer.js";
import { memoize } from "../lazy/deferred.js";
import { callMcpTool } from "./mcp_tool_call.js";
import { mcpToolsFor, type McpToolDefinition } from "./mcp_tools.js";
import { sessionIdHeader } from "../memory/session_id.js";
import { mcpServerInstructions, mcpServerName } from "./mcp_server_info.js";

/** One POST to the MCP endpoint, its body already read within the host's limits. */
export interface McpHttpRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: Uint8Array;
  /** Aborts when the client leaves before the answer is written. */
  readonly signal: AbortSignal;
  /** The host's own response headers (CORS of an allowed origin). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

export interface LocalMcpServer {
  handle(request: McpHttpRequest): Promise<void>;
}

interface Sdk {
  readonly McpServer: typeof McpServer;
  readonly StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport;
}

/**
 * The MCP SDK, loaded on the first MCP request: nothing of it is loaded when the host starts, and
 * the bundles keep it out (esbuild.config.mjs marks it external; the Functions entry never reaches
 * this module, the extension serves MCP there).
 */
const sdk = memoize(async (): Promise<Sdk> => {
  const [server, transport] = await Promise.all([import("@modelcontextprotocol/sdk/server/mcp.js"), import("@modelcontextprotocol/sdk/server/streamableHttp.js")]);
  return { McpServer: server.McpServer, StreamableHTTPServerTransport: transport.StreamableHTTPServerTransport };
});
let sdkRequested = false;

function loadSdk(): Promise<Sdk> {
  sdkRequested = true;
  return sdk();
}

/** Whether an MCP request has loaded the SDK in this process; for the tests of its lazy loading. */
export async function mcpSdkLoaded(): Promise<boolean> {
  return sdkRequested && (await sdk().then(() => true, () => false));
}

/**
 * The local host's MCP server at /runtime/webhooks/mcp: the official SDK's McpServer over its
 * Streamable HTTP transport, stateless (a server and a transport per request, JSON responses).
 *
 * The caller is authenticated as on every route, and the request counted against its rate limit,
 * before the SDK sees the request (401 with a Bearer challenge in jwt mode; 429 with Retry-After
 * over the limit), and is offered only the tools it may run on the mcp channel; the
 * SDK refuses any other name as an unknown tool. Each tool advertises its plugin's own JSON Schema
 * but takes whatever object it is sent: the runner validates it with the plugin's zod schema, so
 * that invalid input is answered, and recorded, as on every channel (an `isError` result with the
 * code invalid_input), not as the SDK's own protocol error.
 */
export function createLocalMcpServer(services: Services): LocalMcpServer {
  const logger = services.logger.child({ component: "mcp" });
  const inputCarriers = new Map<string, z.ZodObject>();

  /**
   * A schema that accepts any object and converts to the plugin's JSON Schema: zod writes a
   * schema's metadata over what it generates, and the SDK lists a tool's input with zod's converter.
   * One per tool and process, as metadata is kept in zod's global registry.
   */
  const inputCarrier = (tool: McpToolDefinition): z.ZodObject => {
    let carrier = inputCarriers.get(tool.name);
    if (!carrier) {
      carrier = z.looseObject({}).meta(tool.inputSchema) as z.ZodObject;
      inputCarriers.set(tool.name, carrier);
    }
    return carrier;
  };

  return {
    handle: async ({ req, res, body, signal, headers: hostHeaders }) => {
      // As the authenticator reads them on every route (an HttpRequest's headers).
      const headers = new Headers(flattenHeaders(req));
      let caller: Caller;
      try {
        caller = await requestCaller(headers, services);
        // Every MCP request counts once, whatever it asks (a listing as much as a call), as a POST route does.
        await services.rateLimiter.consume(caller);
      } catch (error) {
        return writeResponse(res, errorResponse(error, logger), hostHeaders);
      }
      let message: unknown;
      try {
        message = JSON.parse(Buffer.from(body).toString("utf8"));
      } catch {
        return writeResponse(res, { status: 400, jsonBody: { jsonrpc: "2.0", error: { code: -32700, message: "Parse error: the body is not JSON" }, id: null } }, hostHeaders);
      }
      const { McpServer, StreamableHTTPServerTransport } = await loadSdk();
      const server = new McpServer({ name: mcpServerName, version: services.config.version }, { instructions: mcpServerInstructions });
      const sessionId = headers.get(sessionIdHeader) ?? undefined;
      const deps = { runner: services.runner, logger };
      for (const tool of mcpToolsFor(caller, services.registry, services.policy)) {
        server.registerTool(tool.name, { description: tool.description, inputSchema: inputCarrier(tool) }, async (args, extra) =>
          callMcpTool(deps, { caller, tool: tool.name, arguments: args, sessionId, signal: AbortSignal.any([signal, extra.signal]) }),
        );
      }
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      transport.onerror = (error) => logger.debug("mcp transport error", { error: error.message });
      res.once("close", () => {
        void transport.close();
        void server.close();
      });
      for (const [name, value] of Object.entries(hostHeaders ?? {})) res.setHeader(name, value);
      await server.connect(transport);
      await transport.handleRequest(req, res, message);
    },
  };
}
