/** What the MCP server says of itself (the version is package.json's). */
export const mcpServerName = "codexcontinue-functions";

export const mcpServerInstructions =
  "The tools are the plugins of this CodexContinue Functions app; each call runs through the same validation, policy, timeout and audit log as the app's HTTP API. " +
  "A call that fails answers isError with the error code in its text, as in 'error (invalid_input): ...': correct the arguments and call again. " +
  "Send an x-session-id header to record the calls in that session's audit log.";

/**
 * How long a client may keep a tools/list answer before asking again. The list is the caller's
 * own (the policy may depend on its roles), hence `private`; it changes only when the app's
 * configuration does.
 */
export const toolsListCacheHint = { ttlMs: 300_000, cacheScope: "private" } as const;
