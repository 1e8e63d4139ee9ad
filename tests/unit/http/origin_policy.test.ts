import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { checkOrigin, preflightHeaders } from "../../../src/http/origin_policy.js";

const options = { corsAllowedOrigins: ["https://chat.example.com", "http://localhost:3000"] };

function refusal(origin: string, host = "localhost:7071"): AppError {
  try {
    checkOrigin(origin, host, options);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`${origin} was not refused`);
}

describe("checkOrigin", () => {
  it("lets a request without Origin through (curl, SDKs)", () => {
    expect(checkOrigin(undefined, "localhost:7071", options)).toEqual({ kind: "no_origin" });
    expect(checkOrigin(undefined, undefined, { corsAllowedOrigins: [] })).toEqual({ kind: "no_origin" });
  });

  it("lets the app's own pages through without CORS headers: same host and port as the Host header", () => {
    expect(checkOrigin("http://localhost:7071", "localhost:7071", options)).toEqual({ kind: "same_origin" });
    expect(checkOrigin("http://127.0.0.1:7071", "127.0.0.1:7071", { corsAllowedOrigins: [] })).toEqual({ kind: "same_origin" });
    expect(checkOrigin("http://[::1]:7071", "[::1]:7071", { corsAllowedOrigins: [] })).toEqual({ kind: "same_origin" });
    expect(checkOrigin("https://app.example.net", "app.example.net", { corsAllowedOrigins: [] })).toEqual({ kind: "same_origin" });
    // The scheme's default port is the same port, written or not.
    expect(checkOrigin("https://app.example.net", "APP.example.net:443", { corsAllowedOrigins: [] })).toEqual({ kind: "same_origin" });
  });

  it("refuses the same host on another port, and a Host that is not a plain host[:port]", () => {
    expect(refusal("http://localhost:8080").code).toBe("origin_not_allowed");
    expect(refusal("http://localhost:7071", "evil@localhost:7071").code).toBe("origin_not_allowed");
    expect(refusal("http://localhost:7071", "localhost:7071/x").code).toBe("origin_not_allowed");
    expect(() => checkOrigin("http://localhost:7071", undefined, { corsAllowedOrigins: [] })).toThrow(AppError);
  });

  it("lets a listed origin through with the CORS response headers", () => {
    expect(checkOrigin("https://chat.example.com", "localhost:7071", options)).toEqual({
      kind: "allowed",
      origin: "https://chat.example.com",
      headers: { "access-control-allow-origin": "https://chat.example.com", vary: "origin" },
    });
    expect(checkOrigin("https://CHAT.example.com:443", "localhost:7071", options)).toMatchObject({ kind: "allowed", origin: "https://chat.example.com" });
    expect(checkOrigin("http://localhost:3000", "localhost:7071", options)).toMatchObject({ kind: "allowed" });
  });

  it("refuses any other origin with 403 origin_not_allowed, naming CORS_ALLOWED_ORIGINS and the origin", () => {
    const error = refusal("http://evil.example");
    expect(error.code).toBe("origin_not_allowed");
    expect(error.message).toContain("CORS_ALLOWED_ORIGINS");
    expect(error.message).toContain("http://evil.example");
    expect(error.details).toEqual({ origin: "http://evil.example" });
  });

  it.each([
    ["null (sandboxed frames, file: pages)", "null"],
    ["another scheme of a listed origin", "http://chat.example.com"],
    ["a subdomain of a listed origin", "https://evil.chat.example.com"],
    ["a listed origin with a path", "https://chat.example.com/x"],
    ["a listed origin with a trailing slash", "https://chat.example.com/"],
    ["a listed origin with user info", "https://u@chat.example.com"],
    ["a non-http scheme", "file://localhost:7071"],
    ["garbage", "not an origin"],
    ["an empty value", ""],
  ])("refuses %s", (_label, origin) => {
    expect(refusal(origin).code).toBe("origin_not_allowed");
  });

  it("never treats Origin: null as same-origin, whatever the Host", () => {
    expect(refusal("null", "null").code).toBe("origin_not_allowed");
  });

  it("bounds a long origin in the message", () => {
    const error = refusal(`http://${"a".repeat(500)}.example`);
    expect(error.message.length).toBeLessThan(400);
  });
});

describe("preflightHeaders", () => {
  it("allows the origin, the route's methods with OPTIONS, authorization, content-type and MCP's headers, for 10 minutes", () => {
    expect(preflightHeaders("https://chat.example.com", ["POST"])).toEqual({
      "access-control-allow-origin": "https://chat.example.com",
      "access-control-allow-methods": "POST, OPTIONS",
      "access-control-allow-headers":
        "authorization, content-type, accept, x-session-id, mcp-protocol-version, mcp-method, mcp-name, mcp-session-id, last-event-id",
      "access-control-max-age": "600",
      vary: "origin",
    });
  });

  it("allows the MCP argument headers a preflight asks for, and no other header beyond its list", () => {
    const allowed = preflightHeaders("https://chat.example.com", ["POST"], "Mcp-Param-Region, x-secret, mcp-param-city")["access-control-allow-headers"]!;
    expect(allowed.split(", ")).toEqual(expect.arrayContaining(["mcp-param-region", "mcp-param-city", "authorization"]));
    expect(allowed).not.toContain("x-secret");
  });

  it("announces GET, POST and OPTIONS when the route's methods are not given", () => {
    expect(preflightHeaders("https://chat.example.com")["access-control-allow-methods"]).toBe("GET, POST, OPTIONS");
  });
});
