import { randomUUID } from "node:crypto";
import { z } from "zod";
import { AppError } from "../errors/app_error.js";

export const sessionIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
export const sessionIdSchema = z.string().regex(sessionIdPattern, "must be 1-128 letters, digits, '_' or '-'");

export function newSessionId(): string {
  return randomUUID();
}

/** The header that names a session where the request body has no place for it: the MCP endpoint and the OpenAI-compatible chat. */
export const sessionIdHeader = "x-session-id";

/** The session an `x-session-id` header names: none without the header, invalid_session_id when it is no session id. */
export function sessionIdFromHeader(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (sessionIdPattern.test(value)) return value;
  throw new AppError("invalid_session_id", `the ${sessionIdHeader} header must be 1-128 letters, digits, '_' or '-'`, {
    details: { header: sessionIdHeader },
  });
}

export function assertSessionId(value: unknown): string {
  if (typeof value === "string" && sessionIdPattern.test(value)) return value;
  throw new AppError("invalid_session_id", "sessionId must be 1-128 letters, digits, '_' or '-'", {
    details: { field: "sessionId" },
  });
}
