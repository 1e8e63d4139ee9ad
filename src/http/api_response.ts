import { AppError, describeThrown } from "../errors/app_error.js";
import { httpStatusOf } from "../errors/error_codes.js";
import type { Logger } from "../logging/logger.js";

/** Structurally an `HttpResponseInit` of @azure/functions, without depending on it. */
export interface ApiResponse {
  readonly status: number;
  readonly jsonBody: unknown;
  readonly headers?: Record<string, string>;
}

export function jsonResponse(status: number, body: unknown, headers?: Record<string, string>): ApiResponse {
  return headers ? { status, jsonBody: body, headers } : { status, jsonBody: body };
}

/**
 * The one place where an error becomes an HTTP response. Only an AppError's code, message and
 * details reach the caller; anything else is logged in full and answered as internal_error.
 */
export function errorResponse(error: unknown, logger: Logger): ApiResponse {
  if (error instanceof AppError) {
    const status = httpStatusOf(error.code);
    // 503s are expected states (a dependency down, no LLM configured), not faults of this code.
    const log = status === 503 ? logger.warn : status >= 500 ? logger.error : logger.debug;
    log("request failed", { code: error.code, error: error.message, cause: error.cause === undefined ? undefined : describeThrown(error.cause) });
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return jsonResponse(status, { status: "error", error: body }, error.headers ? { ...error.headers } : undefined);
  }
  logger.error("unexpected error", { error: describeThrown(error), stack: error instanceof Error ? error.stack : undefined });
  return jsonResponse(500, { status: "error", error: { code: "internal_error", message: "internal error" } });
}
