import { describe, expect, it } from "vitest";
import { unauthorized } from "../../../src/auth/unauthorized.js";
import { AppError } from "../../../src/errors/app_error.js";
import { createLogger, silentLogger } from "../../../src/logging/logger.js";
import { OpenAiRequestError, errorTypeOf, openAiErrorBodySchema, openAiErrorResponse } from "../../../src/openai_compat/openai_error.js";

describe("errors in OpenAI's shape", () => {
  it.each([
    [new AppError("invalid_request", "bad"), 400, "invalid_request_error", "invalid_request"],
    [unauthorized("no token", false), 401, "authentication_error", "unauthorized"],
    [new AppError("origin_not_allowed", "no"), 403, "permission_error", "origin_not_allowed"],
    [new AppError("plugin_not_found", "none"), 404, "invalid_request_error", "plugin_not_found"],
    [new AppError("payload_too_large", "big"), 413, "invalid_request_error", "payload_too_large"],
    [new AppError("rate_limited", "slow down", { headers: { "retry-after": "7" } }), 429, "rate_limit_error", "rate_limited"],
    [new AppError("plugin_failed", "failed"), 500, "server_error", "plugin_failed"],
    [new AppError("llm_unavailable", "no model"), 503, "server_error", "llm_unavailable"],
  ])("answers %s with its status, OpenAI's type and the project's code", (error, status, type, code) => {
    const response = openAiErrorResponse(error, silentLogger);
    expect(response.status).toBe(status);
    expect(response.jsonBody).toEqual({ error: { message: error.message, type, param: null, code } });
    expect(openAiErrorBodySchema.parse(response.jsonBody)).toEqual(response.jsonBody);
    expect(errorTypeOf(status)).toBe(type);
  });

  it("keeps the error's headers: the Bearer challenge, Retry-After", () => {
    expect(openAiErrorResponse(unauthorized("bad token"), silentLogger).headers).toEqual({ "www-authenticate": 'Bearer error="invalid_token"' });
    expect(openAiErrorResponse(new AppError("rate_limited", "x", { headers: { "retry-after": "7" } }), silentLogger).headers).toEqual({ "retry-after": "7" });
  });

  it("names the field and OpenAI's own code where the request error has them", () => {
    const response = openAiErrorResponse(new OpenAiRequestError("not_found", "no such model", "model", { openAiCode: "model_not_found" }), silentLogger);
    expect(response).toMatchObject({ status: 404, jsonBody: { error: { param: "model", code: "model_not_found", type: "invalid_request_error" } } });
    expect(openAiErrorResponse(new OpenAiRequestError("invalid_request", "x", "messages[0].content"), silentLogger).jsonBody).toMatchObject({
      error: { param: "messages[0].content", code: "invalid_request" },
    });
  });

  it("adds the issues of an input validation to the message, having no room for details", () => {
    const error = new AppError("invalid_input", 'input for plugin "echo" is not valid', {
      details: {
        plugin: "echo",
        issues: [
          { path: "text", message: "expected string" },
          { path: "", message: "too many fields" },
        ],
      },
    });
    expect(openAiErrorResponse(error, silentLogger).jsonBody).toMatchObject({
      error: { message: 'input for plugin "echo" is not valid: text: expected string; too many fields', code: "invalid_input" },
    });
  });

  it("answers anything else as a 500 internal_error that says nothing of it, and logs it", () => {
    const lines: string[] = [];
    const logger = createLogger("error", (_level, line) => lines.push(line));
    const response = openAiErrorResponse(new Error("connect ECONNREFUSED 10.0.0.5:6379"), logger);
    expect(response).toEqual({ status: 500, jsonBody: { error: { message: "internal error", type: "server_error", param: null, code: "internal_error" } } });
    expect(lines.join("\n")).toContain("ECONNREFUSED");
  });
});
