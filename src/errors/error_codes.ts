/**
 * Every error the API can answer with, and the one place that maps it to HTTP.
 * Codes are part of the public contract: clients branch on them, so they never change meaning.
 */
export const errorCodes = {
  invalid_request: 400,
  invalid_input: 400,
  invalid_session_id: 400,
  plugin_disabled: 403,
  command_not_allowed: 403,
  not_found: 404,
  plugin_not_found: 404,
  run_not_found: 404,
  method_not_allowed: 405,
  run_exists: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  plugin_busy: 429,
  internal_error: 500,
  plugin_failed: 500,
  upstream_unavailable: 502,
  llm_step_limit: 502,
  llm_unavailable: 503,
  memory_unavailable: 503,
  storage_unavailable: 503,
  plugin_timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export function httpStatusOf(code: ErrorCode): number {
  return errorCodes[code];
}
