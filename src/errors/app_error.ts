import type { ErrorCode } from "./error_codes.js";

/**
 * The one error type of the application. `message` is written for the API consumer and is
 * safe to return; `cause` keeps the internal error for logs and never reaches a response.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Response headers that belong to the error: `WWW-Authenticate` of a 401, `Retry-After` of a 429. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** A description of any thrown value for logs; never used in responses. */
export function describeThrown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return `non-Error value thrown: ${JSON.stringify(value)}`;
  } catch {
    return `non-Error value thrown: ${String(value)}`;
  }
}
