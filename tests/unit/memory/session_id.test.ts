import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { sessionIdFromHeader } from "../../../src/memory/session_id.js";

describe("sessionIdFromHeader", () => {
  it("names no session without the header, and the session a valid one names", () => {
    expect(sessionIdFromHeader(null)).toBeUndefined();
    expect(sessionIdFromHeader(undefined)).toBeUndefined();
    expect(sessionIdFromHeader("continue-ide_2")).toBe("continue-ide_2");
  });

  it.each([
    ["an empty value", ""],
    ["a space", "a b"],
    ["a path", "../etc"],
    ["129 characters", "a".repeat(129)],
  ])("refuses %s with invalid_session_id naming the header", (_what, value) => {
    let thrown: unknown;
    try {
      sessionIdFromHeader(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe("invalid_session_id");
    expect((thrown as AppError).details).toEqual({ header: "x-session-id" });
  });
});
