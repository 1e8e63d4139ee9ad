import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as StreamableHTTPClientTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

/** What the tests use of an MCP client: the same calls in the official SDK's v2 and 1.x. */
export interface McpTestClient {
  listTools(): Promise<{ tools: any[] }>;
  callTool(request: { name: string; arguments: Record<string, unknown> }): Promise<any>;
  close(): Promise<void>;
}

export interface McpClientKind {
  readonly name: string;
  /** The protocol revision it speaks to this server. */
  readonly era: "2026-07-28" | "2025";
  connect(url: URL, headers?: Record<string, string>): Promise<McpTestClient>;
}

const clientInfo = { name: "codexcontinue-tests", version: "1.0.0" };

/** The official clients, unmodified, over their Streamable HTTP transports. */
export const mcpClientKinds: readonly McpClientKind[] = [
  {
    name: "@modelcontextprotocol/client (v2) pinned to 2026-07-28",
    era: "2026-07-28",
    connect: async (url, headers = {}) => {
      const client = new Client(clientInfo, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
      return client as unknown as McpTestClient;
    },
  },
  {
    name: "@modelcontextprotocol/client (v2) with its default 2025 handshake",
    era: "2025",
    connect: async (url, headers = {}) => {
      const client = new Client(clientInfo);
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
      return client as unknown as McpTestClient;
    },
  },
  {
    name: "@modelcontextprotocol/sdk (1.x)",
    era: "2025",
    connect: async (url, headers = {}) => {
      const client = new ClientV1(clientInfo);
      await client.connect(new StreamableHTTPClientTransportV1(url, { requestInit: { headers } }));
      return client as unknown as McpTestClient;
    },
  },
];

/** The 2026-07-28 revision's headers and `_meta` of one request, as its clients send them (for a test that sends one by hand). */
export function modernRequest(id: number, method: string, params: Record<string, unknown> = {}): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": method,
  };
  if (typeof params.name === "string") headers["mcp-name"] = params.name;
  const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
  return { headers, body: JSON.stringify({ jsonrpc: "2.0", id, method, params: { ...params, _meta: meta } }) };
}
