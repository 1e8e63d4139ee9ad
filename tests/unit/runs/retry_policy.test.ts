import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { errorCodes, type ErrorCode } from "../../../src/errors/error_codes.js";
import { RunInProgressError } from "../../../src/runs/run_processor.js";
import { failureKinds, isRetryable } from "../../../src/runs/retry_policy.js";

// The decision for every code, written out: a new error code must be placed here on purpose.
const retryable: ErrorCode[] = [
  "storage_unavailable",
  "memory_unavailable",
  "plugin_busy",
  "rate_limited",
  "auth_unavailable",
  "plugin_timeout",
  "upstream_unavailable",
  "llm_unavailable",
  "internal_error",
];
const permanent: ErrorCode[] = [
  "invalid_request",
  "invalid_input",
  "invalid_session_id",
  "plugin_not_found",
  "plugin_disabled",
  "command_not_allowed",
  "plugin_failed",
  "llm_step_limit",
  "run_nesting_limit",
  "payload_too_large",
  "not_found",
  "run_not_found",
  "run_exists",
  "approval_forbidden",
  "approval_closed",
  "method_not_allowed",
  "unsupported_media_type",
  "unauthorized",
  "plugin_forbidden",
  "path_not_allowed",
  "origin_not_allowed",
  "host_not_allowed",
  "invalid_host_header",
  "request_timeout",
];

describe("retryable and permanent run failures", () => {
  it("decides every error code, once", () => {
    expect([...retryable, ...permanent].sort()).toEqual(Object.keys(errorCodes).sort());
    expect(Object.keys(failureKinds).sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it.each(retryable)("%s is retried (the handler throws)", (code) => {
    expect(isRetryable(new AppError(code, "m"))).toBe(true);
  });

  it.each(permanent)("%s is final (recorded failed, not retried)", (code) => {
    expect(isRetryable(new AppError(code, "m"))).toBe(false);
  });

  it("retries what is not an AppError: an SDK or network error, a run held by another delivery", () => {
    expect(isRetryable(new Error("connect ECONNREFUSED 127.0.0.1:10001"))).toBe(true);
    expect(isRetryable(new RunInProgressError("r", undefined))).toBe(true);
    expect(isRetryable("a thrown string")).toBe(true);
  });
});
