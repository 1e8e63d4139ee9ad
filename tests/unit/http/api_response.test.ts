import { describe, it, expect } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { errorCodes, httpStatusOf, type ErrorCode } from "../../../src/errors/error_codes.js";
import { errorResponse, jsonResponse } from "../../../src/http/api_response.js";
import { createLogger, silentLogger, type LogLevel } from "../../../src/logging/logger.js";

function collectingLogger() {
  const lines: { level: LogLevel; line: string }[] = [];
  const logger = createLogger("debug", (level, line) => lines.push({ level, line }));
  return { logger, lines };
}

const expectedStatus: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_input: 400,
  invalid_session_id: 400,
  invalid_host_header: 400,
  unauthorized: 401,
  plugin_disabled: 403,
  plugin_forbidden: 403,
  command_not_allowed: 403,
  path_not_allowed: 403,
  origin_not_allowed: 403,
  host_not_allowed: 403,
  approval_forbidden: 403,
  request_timeout: 408,
  rate_limited: 429,
  plugin_busy: 429,
  upstream_unavailable: 502,
  llm_step_limit: 502,
  not_found: 404,
  plugin_not_found: 404,
  run_not_found: 404,
  method_not_allowed: 405,
  run_exists: 409,
  approval_closed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  plugin_failed: 500,
  run_nesting_limit: 508,
  llm_unavailable: 503,
  memory_unavailable: 503,
  auth_unavailable: 503,
  storage_unavailable: 503,
  plugin_timeout: 504,
};

describe("error codes", () => {
  it("lists exactly the documented codes", () => {
    expect(Object.keys(errorCodes).sort()).toEqual(Object.keys(expectedStatus).sort());
  });

  it.each(Object.keys(errorCodes) as ErrorCode[])("%s maps to its HTTP status", (code) => {
    expect(httpStatusOf(code)).toBe(expectedStatus[code]);
    const response = errorResponse(new AppError(code, "m"), silentLogger);
    expect(response.status).toBe(expectedStatus[code]);
    expect(response.jsonBody).toEqual({ status: "error", error: { code, message: "m" } });
  });
});

describe("errorResponse with an AppError", () => {
  it("has no details key when none were given", () => {
    const response = errorResponse(new AppError("not_found", "no such thing"), silentLogger);
    const body = response.jsonBody as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message"]);
  });

  it("includes details when given", () => {
    const response = errorResponse(new AppError("invalid_request", "bad", { details: { field: "x" } }), silentLogger);
    expect(response).toEqual({
      status: 400,
      jsonBody: { status: "error", error: { code: "invalid_request", message: "bad", details: { field: "x" } } },
    });
  });

  it("keeps the cause out of the response but logs it", () => {
    const { logger, lines } = collectingLogger();
    const cause = new Error("socket hang up at 10.1.2.3");
    const response = errorResponse(new AppError("storage_unavailable", "storage is down", { cause }), logger);
    expect(response.status).toBe(503);
    const json = JSON.stringify(response);
    expect(json).not.toContain("10.1.2.3");
    expect(json).not.toContain("hang up");
    expect(lines.some((l) => l.level === "warn" && l.line.includes("socket hang up at 10.1.2.3"))).toBe(true);
  });

  it("logs client errors at debug and server faults at error", () => {
    const client = collectingLogger();
    errorResponse(new AppError("invalid_input", "bad input"), client.logger);
    expect(client.lines.map((l) => l.level)).toEqual(["debug"]);
    const server = collectingLogger();
    errorResponse(new AppError("plugin_failed", "it broke"), server.logger);
    expect(server.lines.map((l) => l.level)).toEqual(["error"]);
  });
});

describe("errorResponse with anything else", () => {
  it("answers a plain Error as internal_error without leaking it, and logs the detail", () => {
    const { logger, lines } = collectingLogger();
    const response = errorResponse(new Error("connect ECONNREFUSED 10.0.0.5:6379"), logger);
    expect(response.status).toBe(500);
    expect(response.jsonBody).toEqual({ status: "error", error: { code: "internal_error", message: "internal error" } });
    const json = JSON.stringify(response);
    expect(json).not.toContain("ECONNREFUSED");
    expect(json).not.toContain("10.0.0.5");
    expect(json).not.toContain("stack");
    const logged = lines.filter((l) => l.line.includes("connect ECONNREFUSED 10.0.0.5:6379"));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe("error");
  });

  it.each<[string, unknown]>([
    ["a string", "database password is hunter2"],
    ["an object", { secret: "hunter2" }],
    ["undefined", undefined],
    ["a number", 42],
  ])("answers a thrown %s as internal_error", (_label, thrown) => {
    const { logger, lines } = collectingLogger();
    const response = errorResponse(thrown, logger);
    expect(response.status).toBe(500);
    expect(response.jsonBody).toEqual({ status: "error", error: { code: "internal_error", message: "internal error" } });
    expect(JSON.stringify(response)).not.toContain("hunter2");
    expect(lines.filter((l) => l.level === "error")).toHaveLength(1);
  });

  it("logs the value of a thrown non-Error", () => {
    const { logger, lines } = collectingLogger();
    errorResponse("database password is hunter2", logger);
    errorResponse({ secret: "hunter2" }, logger);
    expect(lines[0]?.line).toContain("database password is hunter2");
    expect(lines[1]?.line).toContain("hunter2");
  });

  it("survives a thrown value that cannot be serialised", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const { logger, lines } = collectingLogger();
    const response = errorResponse(circular, logger);
    expect(response.status).toBe(500);
    expect(lines).toHaveLength(1);
  });
});

describe("jsonResponse", () => {
  it("omits headers unless given", () => {
    expect(jsonResponse(200, { a: 1 })).toEqual({ status: 200, jsonBody: { a: 1 } });
    expect("headers" in jsonResponse(200, { a: 1 })).toBe(false);
    expect(jsonResponse(201, null, { location: "/x" })).toEqual({ status: 201, jsonBody: null, headers: { location: "/x" } });
  });
});
