/**
 * The least an MCP server can be under the official SDK's createMcpHandler, unmodified: a fresh
 * McpServer per request with one tool that returns its text. The MCP SDK floor
 * (bench/servers/mcp_sdk_floor_server.ts) serves it; bench/mcp_in_process.ts calls it in a loop.
 * Beside it the same on the SDK's low-level Server, which createMcpHandler's factory may return too:
 * one tools/call handler and nothing of McpServer's tool registry, input and output checks.
 */
import { createMcpHandler, McpServer, Server, type McpHttpHandler, type StandardSchemaWithJSON } from "@modelcontextprotocol/server";

/** Lets every value through, as the app's tools do (its runner validates the input). */
const anyObject: StandardSchemaWithJSON<Record<string, unknown>> = {
  "~standard": {
    version: 1,
    vendor: "bench",
    validate: (value) => ({ value: value as Record<string, unknown> }),
    jsonSchema: { input: () => ({ type: "object" }), output: () => ({ type: "object" }) },
  },
};

export function createSdkFloorHandler(): McpHttpHandler {
  return createMcpHandler(() => {
    const server = new McpServer({ name: "mcp-sdk-floor", version: "1.0.0" }, { capabilities: { tools: { listChanged: false } } });
    server.registerTool("echo", { description: "Returns its text.", inputSchema: anyObject }, async (args) => ({
      content: [{ type: "text", text: String(args.text) }],
    }));
    return server;
  });
}

/** The floor on the low-level Server: a tools/call handler set directly, no tool registered (bench/servers/mcp_sdk_low_level_floor_server.ts). */
export function createLowLevelSdkFloorHandler(): McpHttpHandler {
  return createMcpHandler(() => {
    const server = new Server({ name: "mcp-sdk-floor", version: "1.0.0" }, { capabilities: { tools: { listChanged: false } } });
    server.setRequestHandler("tools/call", async (request) => ({
      content: [{ type: "text", text: String((request.params.arguments as { text?: unknown } | undefined)?.text) }],
    }));
    return server;
  });
}
