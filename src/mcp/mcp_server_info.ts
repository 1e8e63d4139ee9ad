/**
 * What the MCP server says of itself in both hosts: the local host's McpServer is built with
 * these, and host.json's `extensions.mcp` carries the same for the Functions MCP extension
 * (tests/unit/mcp/mcp_host_json.test.ts holds the two together; the version is package.json's).
 */
export const mcpServerName = "codexcontinue-functions";

export const mcpServerInstructions =
  "The tools are the plugins of this CodexContinue Functions app; each call runs through the same validation, " +
  "policy, timeout and audit log as the app's HTTP API. A call that fails answers isError with the error code " +
  "in its text, as in 'error (invalid_input): ...': correct the arguments and call again. Send an x-session-id " +
  "header to record the calls in that session's audit log.";

/** The Streamable HTTP endpoint: where the Functions MCP extension serves it, and so the local host too. */
export const mcpEndpointPath = "/runtime/webhooks/mcp";
