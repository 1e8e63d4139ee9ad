/**
 * Every error the API can answer with, one row per code: its HTTP status, whether a queued run
 * that ends with it is delivered again, whether a plugin may raise it itself (anything else a
 * plugin throws is reported as plugin_failed), and whether it ends a model's conversation.
 * Codes are part of the public contract: clients branch on them, so they never change meaning.
 */
export interface ErrorCodeRow {
  readonly status: number;
  /** A queued run that fails with it is delivered again (see src/runs/retry_policy.ts). */
  readonly retryable: boolean;
  /** A plugin may throw it as it is; the runner turns any other code a plugin throws into plugin_failed. */
  readonly pluginsMayRaise: boolean;
  /**
   * A model's tool call that fails with it ends the conversation with this code (a platform
   * failure the model cannot fix); any other code goes back to the model as a tool error.
   */
  readonly endsConversation: boolean;
}

function row(status: number, options: { retryable?: boolean; pluginsMayRaise?: boolean; endsConversation?: boolean } = {}): ErrorCodeRow {
  return {
    status,
    retryable: options.retryable ?? false,
    pluginsMayRaise: options.pluginsMayRaise ?? false,
    endsConversation: options.endsConversation ?? false,
  };
}

export const errorCodes = {
  invalid_request: row(400),
  invalid_input: row(400, { pluginsMayRaise: true }),
  invalid_session_id: row(400),
  /** Local host: an HTTP/1.1 request without Host, with more than one Host line, or with a malformed one (RFC 9112 §3.2). */
  invalid_host_header: row(400),
  /** No credentials, or credentials that could not be verified. */
  unauthorized: row(401),
  plugin_disabled: row(403, { pluginsMayRaise: true }),
  /** The plugin policy refuses this caller on this channel. */
  plugin_forbidden: row(403),
  command_not_allowed: row(403, { pluginsMayRaise: true }),
  /** The shell plugin refuses a path outside its working directory. */
  path_not_allowed: row(403, { pluginsMayRaise: true }),
  /** A browser request from an origin that is not allowed (local host: a page on another site). */
  origin_not_allowed: row(403),
  /** A Host header the local host does not answer to (DNS rebinding). */
  host_not_allowed: row(403),
  /** The caller is no approver (GET and POST /api/approvals), or decides a request of its own. */
  approval_forbidden: row(403),
  not_found: row(404),
  plugin_not_found: row(404),
  run_not_found: row(404),
  method_not_allowed: row(405),
  request_timeout: row(408),
  run_exists: row(409),
  /** The request was decided already (by another approver, perhaps at the same moment) or has expired. */
  approval_closed: row(409),
  payload_too_large: row(413),
  unsupported_media_type: row(415),
  plugin_busy: row(429, { retryable: true }),
  /** The caller is over RATE_LIMIT_PER_MINUTE; the response says when to retry (Retry-After). */
  rate_limited: row(429, { retryable: true }),
  internal_error: row(500, { retryable: true }),
  plugin_failed: row(500, { pluginsMayRaise: true }),
  /** A run started by a run (the agent's tool calls) nested deeper than the runner allows; answered to a model as a tool error. */
  run_nesting_limit: row(508),
  upstream_unavailable: row(502, { retryable: true, pluginsMayRaise: true }),
  llm_step_limit: row(502, { pluginsMayRaise: true }),
  llm_unavailable: row(503, { retryable: true, pluginsMayRaise: true }),
  /** Session memory (Redis) cannot be reached; a plugin's own memory calls (the memory plugin's) fail with it too. */
  memory_unavailable: row(503, { retryable: true, pluginsMayRaise: true, endsConversation: true }),
  /** The token issuer's signing keys could not be fetched: the caller's token was not judged. */
  auth_unavailable: row(503, { retryable: true }),
  storage_unavailable: row(503, { retryable: true, endsConversation: true }),
  plugin_timeout: row(504, { retryable: true }),
} as const satisfies Record<string, ErrorCodeRow>;

export type ErrorCode = keyof typeof errorCodes;

export function httpStatusOf(code: ErrorCode): number {
  return errorCodes[code].status;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(errorCodes, value);
}
