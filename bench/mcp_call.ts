/** MCP's 2026-07-28 tools/call of echo, with the headers and `_meta` its clients send: the MCP row of the benchmark and its profile. */
export const mcpEchoCall = {
  headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "echo" },
  body: JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: {
      name: "echo",
      arguments: { text: "hello" },
      _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} },
    },
  }),
} as const;

/** Sends the call once to an MCP endpoint and throws unless it answers echo's text: a row of errors would measure nothing. */
export async function checkMcpEchoCall(url: string): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...mcpEchoCall.headers }, body: mcpEchoCall.body });
  const text = await response.text();
  if (response.status !== 200 || !text.includes('"content":[{"type":"text","text":"hello"}]'))
    throw new Error(`MCP tools/call echo at ${url} answered ${response.status} ${text}`);
}
