/**
 * The ways a plugin run reaches the app. The plugin policy (PLUGIN_POLICY) decides per plugin on
 * which of them, and for which roles, it may run.
 * - execute: POST /api/plugins/execute, synchronous or asynchronous
 * - chat: `/run <plugin> <input>` in POST /api/chat
 * - llm: a tool call of the language model (chat, the agent plugin)
 * - queue: a message put on the plugin-runs queue by another system
 * - mcp: the MCP server
 */
export const channels = ["execute", "chat", "llm", "queue", "mcp"] as const;

export type Channel = (typeof channels)[number];
