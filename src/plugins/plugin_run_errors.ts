import type { ErrorCode } from "../errors/error_codes.js";

/** What running a plugin can end with, in a session or not (the memory and agent plugins included): the codes of every route that runs one. */
export const pluginRunErrors: readonly ErrorCode[] = [
  "invalid_input",
  "plugin_not_found",
  "plugin_forbidden",
  "plugin_disabled",
  "command_not_allowed",
  "path_not_allowed",
  "plugin_busy",
  "plugin_failed",
  "plugin_timeout",
  "upstream_unavailable",
  "llm_unavailable",
  "llm_step_limit",
  "memory_unavailable",
  "storage_unavailable",
];
