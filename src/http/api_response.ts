import { z } from "zod";
import { AppError, describeThrown } from "../errors/app_error.js";
import { errorCodes, httpStatusOf, type ErrorCode } from "../errors/error_codes.js";
import type { Logger } from "../logging/logger.js";

/** Structurally an `HttpResponseInit` of @azure/functions, without depending on it. */
export interface ApiResponse<Status extends number = number, Body = unknown> {
  readonly status: Status;
  readonly jsonBody: Body;
  readonly headers?: Record<string, string>;
}

/** The answer of one status, or of one of several (`ok ? 200 : 503`): each status with the body, so that a route's contract can tell them apart. */
export function jsonResponse<Status extends number, const Body>(
  status: Status,
  body: Body,
  headers?: Record<string, string>,
): Status extends number ? ApiResponse<Status, Body> : never {
  return (headers ? { status, jsonBody: body, headers } : { status, jsonBody: body }) as Status extends number ? ApiResponse<Status, Body> : never;
}

/** Every code of src/errors/error_codes.ts, as the error bodies' schemas list them. */
export const errorCodeNames = Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]];

/** Every error answer: `{status:"error", error:{code, message, details?}}` with a code of src/errors/error_codes.ts. */
const errorBodySchema = z
  .object({
    status: z.literal("error"),
    error: z.object({
      code: z.enum(errorCodeNames).meta({ description: "Stable: clients branch on it." }),
      message: z.string(),
      details: z.unknown().optional().meta({ description: "More about the error, by code: the field, the issues, the position, the session id." }),
    }),
  })
  .meta({ id: "ErrorBody" });

export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * The one place where an error becomes an HTTP response. Only an AppError's code, message and
 * details reach the caller; anything else is logged in full and answered as internal_error.
 */
export function errorResponse(error: unknown, logger: Logger): ApiResponse<number, ErrorBody> {
  if (error instanceof AppError) {
    const status = httpStatusOf(error.code);
    // 503s are expected states (a dependency down, no LLM configured), not faults of this code.
    const log = status === 503 ? logger.warn : status >= 500 ? logger.error : logger.debug;
    log("request failed", { code: error.code, error: error.message, cause: error.cause === undefined ? undefined : describeThrown(error.cause) });
    const body: ErrorBody["error"] = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return jsonResponse(status, { status: "error", error: body }, error.headers ? { ...error.headers } : undefined);
  }
  logger.error("unexpected error", { error: describeThrown(error), stack: error instanceof Error ? error.stack : undefined });
  return jsonResponse(500, { status: "error", error: { code: "internal_error", message: "internal error" } });
}

/** How a route answers its errors: the answer, and its body as the OpenAPI document shows it. */
export interface ErrorFormat {
  readonly respond: (error: unknown, logger: Logger) => ApiResponse;
  readonly body: z.ZodType;
  /** How the body names a code, where not by the code itself (OpenAI's `model_not_found`). */
  readonly codeName?: (code: ErrorCode) => string;
}

/** The standard error body of every route but the OpenAI-compatible ones. */
export const standardErrors: ErrorFormat = { respond: errorResponse, body: errorBodySchema };
