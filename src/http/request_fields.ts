import { z } from "zod";
import type { ErrorCode } from "../errors/error_codes.js";
import { sessionIdHeader, sessionIdPattern } from "../memory/session_id.js";
import { runIdPattern } from "../runs/run_message.js";

/**
 * A string field of a request that is refused with an error code and message of its own when it
 * does not match, instead of the generic invalid_request (src/http/request_parts.ts). Documented
 * as a string of that pattern.
 */
export function patternField(pattern: RegExp, code: ErrorCode, message: string) {
  return z
    .custom<string>((value) => typeof value === "string" && pattern.test(value), { message, params: { code } })
    .meta({ type: "string", pattern: pattern.source });
}

/** A session id, wherever a request sends one: a malformed one is 400 invalid_session_id. */
export const sessionIdField = patternField(sessionIdPattern, "invalid_session_id", "sessionId must be 1-128 letters, digits, '_' or '-'");

/** The header that names a session where the body has no place for it (the OpenAI-compatible routes). */
export const sessionIdHeaderField = patternField(
  sessionIdPattern,
  "invalid_session_id",
  `the ${sessionIdHeader} header must be 1-128 letters, digits, '_' or '-'`,
);

export const runIdField = patternField(runIdPattern, "invalid_request", "runId must be 1-128 letters, digits, '_' or '-'");
