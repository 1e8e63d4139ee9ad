import { randomUUID } from "node:crypto";
import { z } from "zod";
import { AppError } from "../errors/app_error.js";

export const sessionIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
export const sessionIdSchema = z.string().regex(sessionIdPattern, "must be 1-128 letters, digits, '_' or '-'");

export function newSessionId(): string {
  return randomUUID();
}

export function assertSessionId(value: unknown): string {
  if (typeof value === "string" && sessionIdPattern.test(value)) return value;
  throw new AppError("invalid_session_id", "sessionId must be 1-128 letters, digits, '_' or '-'", {
    details: { field: "sessionId" },
  });
}
