/**
 * The MCP endpoint's server: the official SDK's createMcpHandler, which answers the 2026-07-28
 * protocol (stateless, per request) and 2025-era clients through its stateless fallback, with
 * a fresh McpServer per request that offers the caller the tools it may run. This module is
 * loaded on the first MCP request (mcp_endpoint.ts), and the SDK with it.
 */
import { createMcpHandler, McpServer, type AuthInfo, type StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import type { Caller } from "../auth/caller.js";
import type { Services } from "../services.js";
import type { FetchExchange } from "./fetch_exchange.js";
import { callMcpTool } from "./mcp_tool_call.js";
import { mcpServerInstructions, mcpServerName, toolsListCacheHint } from "./mcp_server_info.js";
import { McpToolCatalogue, type McpToolDefinition } from "./mcp_tools.js";

/** One request's caller, as the route authenticated it. */
export interface McpCall {
  readonly caller: Caller;
  /** The `x-session-id` header as sent, if it was: the calls are then recorded in that session. */
  readonly sessionId: string | undefined;
  /** The client leaving (the local host): a run made for the request stops. */
  readonly signal: AbortSignal | undefined;
}

export interface McpEndpoint {
  fetch(exchange: FetchExchange, call: McpCall): Promise<Response>;
}

export type McpServices = Pick<Services, "config" | "registry" | "policy" | "runner" | "logger">;

export function createMcpEndpoint(services: McpServices): McpEndpoint {
  const logger = services.logger.child({ component: "mcp" });
  const catalogue = new McpToolCatalogue(services.registry);
  const schemas = new Map<string, ToolSchemas>();
  const schemasOf = (tool: McpToolDefinition): ToolSchemas => {
    let found = schemas.get(tool.name);
    if (!found) {
      found = toolSchemas(tool);
      schemas.set(tool.name, found);
    }
    return found;
  };
  const deps = { runner: services.runner, logger };

  const handler = createMcpHandler(
    ({ authInfo }) => {
      const { call, toolCalled } = callIn(authInfo);
      const server = new McpServer(
        { name: mcpServerName, version: services.config.version },
        {
          instructions: mcpServerInstructions,
          // The tool list is fixed for the process: no list_changed subscriptions to offer. No resources
          // either, but the capability answers a read of one as the protocol asks (-32602 naming the URI,
          // SEP-2164) where a server without it could only say "method not found".
          capabilities: { tools: { listChanged: false }, resources: {} },
          cacheHints: { "tools/list": toolsListCacheHint },
        },
      );
      // A tools/call needs only the tool it names (the SDK answers any other name as unknown); every other request, all of the caller's.
      for (const tool of catalogue.toolsFor(call.caller, services.policy, toolCalled)) {
        const { input, output: ownOutput } = schemasOf(tool);
        // A run the policy holds for an approver answers a request, not the plugin's result: such a tool promises no output schema.
        const output = services.policy.approvalFor(tool.plugin) ? undefined : ownOutput;
        server.registerTool(
          tool.name,
          { title: tool.title, description: tool.description, annotations: tool.annotations, inputSchema: input, ...(output ? { outputSchema: output } : {}) },
          (args) => callMcpTool(deps, { caller: call.caller, tool: tool.name, arguments: args, sessionId: call.sessionId, signal: call.signal }),
        );
      }
      return server;
    },
    {
      maxRequestBodySize: services.config.http.maxBodyBytes,
      // Rejected and malformed requests are answered by the SDK; they are the client's doing, not a fault here.
      onerror: (error) => logger.debug("mcp request refused", { error: error.message }),
    },
  );

  return {
    fetch: ({ request, parsedBody }, call) =>
      handler.fetch(request, { authInfo: authInfoOf(call, toolCalledIn(parsedBody)), ...(parsedBody === undefined ? {} : { parsedBody }) }),
  };
}

/** The request's caller handed through the SDK to the server factory: its documented way in. No token is passed on. */
function authInfoOf(call: McpCall, toolCalled: string | undefined): AuthInfo {
  return { token: "", clientId: call.caller.principalId, scopes: [], extra: { call, toolCalled } };
}

/** What authInfoOf handed in; every request comes through fetch, which hands it. */
function callIn(authInfo: AuthInfo | undefined): { call: McpCall; toolCalled: string | undefined } {
  if (authInfo?.extra === undefined) throw new Error("an MCP request reached the server without its caller");
  return authInfo.extra as { call: McpCall; toolCalled: string | undefined };
}

/** The tool a JSON-RPC tools/call names; undefined for any other message (a batch, a notification, another method). */
function toolCalledIn(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
  return method === "tools/call" && typeof params?.name === "string" ? params.name : undefined;
}

interface ToolSchemas {
  readonly input: StandardSchemaWithJSON<Record<string, unknown>>;
  readonly output: StandardSchemaWithJSON | undefined;
}

/**
 * The tool's schemas as the SDK takes them (Standard Schema). The input schema advertises the
 * plugin's own JSON Schema but lets every value through: the runner validates it with the
 * plugin's zod schema, so that invalid input is answered and recorded as on every channel (an
 * isError result with the code invalid_input), not as the SDK's own error. The output schema is
 * the plugin's: the SDK checks each result's structuredContent against it.
 */
function toolSchemas(tool: McpToolDefinition): ToolSchemas {
  const input: StandardSchemaWithJSON<Record<string, unknown>> = {
    "~standard": {
      version: 1,
      vendor: "codexcontinue",
      validate: (value) => ({ value: value as Record<string, unknown> }),
      jsonSchema: { input: () => tool.inputSchema, output: () => tool.inputSchema },
    },
  };
  const output = tool.output && {
    "~standard": {
      version: 1 as const,
      vendor: "codexcontinue",
      validate: tool.output.schema["~standard"].validate,
      jsonSchema: { input: () => tool.output!.jsonSchema, output: () => tool.output!.jsonSchema },
    },
  };
  return { input, output };
}
