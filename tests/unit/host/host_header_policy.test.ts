import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { assertHostAllowed, hostNameOf, isHostAllowed } from "../../../src/host/host_header_policy.js";

const loopbackOnly = { host: "127.0.0.1", allowedHosts: [] };

describe("hostNameOf", () => {
  it.each([
    ["localhost:7071", "localhost"],
    ["LOCALHOST", "localhost"],
    ["[::1]:7071", "::1"],
    ["[::1]", "::1"],
    ["api.example.com.", "api.example.com"],
    ["127.0.0.1:80", "127.0.0.1"],
  ])("reads %s as %s", (header, name) => {
    expect(hostNameOf(header)).toBe(name);
  });

  it.each(["evil@localhost", "localhost/x", "::1", "[::1", "a b", ":7071", "localhost:", "localhost:123456"])("finds no host name in %s", (header) => {
    expect(hostNameOf(header)).toBeUndefined();
  });
});

describe("isHostAllowed", () => {
  it("answers loopback names on any port", () => {
    for (const host of ["localhost:7071", "127.0.0.1:7071", "127.0.0.2", "[::1]:7071", "app.localhost:7071"]) {
      expect(isHostAllowed(host, "1.1", loopbackOnly), host).toBe(true);
    }
  });

  it("refuses other names: a DNS-rebound domain, another address, a malformed value", () => {
    for (const host of ["evil.example", "evil.example:7071", "localhost.evil.example", "10.0.0.5:7071", "evil@localhost", ""]) {
      expect(isHostAllowed(host, "1.1", loopbackOnly), host).toBe(false);
    }
  });

  it("answers the configured HOST, unless it is a wildcard address", () => {
    expect(isHostAllowed("10.0.0.5:7071", "1.1", { host: "10.0.0.5", allowedHosts: [] })).toBe(true);
    expect(isHostAllowed("[fe80::1]:7071", "1.1", { host: "fe80::1", allowedHosts: [] })).toBe(true);
    expect(isHostAllowed("0.0.0.0:7071", "1.1", { host: "0.0.0.0", allowedHosts: [] })).toBe(false);
    expect(isHostAllowed("[::]:7071", "1.1", { host: "::", allowedHosts: [] })).toBe(false);
  });

  it("answers the names in ALLOWED_HOSTS, case-insensitively and on any port", () => {
    const options = { host: "0.0.0.0", allowedHosts: ["api.example.com"] };
    expect(isHostAllowed("API.example.com:8443", "1.1", options)).toBe(true);
    expect(isHostAllowed("api.example.com", "1.1", options)).toBe(true);
    expect(isHostAllowed("other.example.com", "1.1", options)).toBe(false);
  });

  it("refuses a missing Host on HTTP/1.1, lets an HTTP/1.0 request without one through", () => {
    expect(isHostAllowed(undefined, "1.1", loopbackOnly)).toBe(false);
    expect(isHostAllowed(undefined, "1.0", loopbackOnly)).toBe(true);
    expect(isHostAllowed("", "1.0", loopbackOnly)).toBe(false);
  });
});

describe("assertHostAllowed", () => {
  it("throws host_not_allowed naming the Host and ALLOWED_HOSTS", () => {
    let error: unknown;
    try {
      assertHostAllowed("evil.example:7071", "1.1", loopbackOnly);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("host_not_allowed");
    expect((error as AppError).message).toContain("evil.example:7071");
    expect((error as AppError).message).toContain("ALLOWED_HOSTS");
    expect(() => assertHostAllowed("localhost:7071", "1.1", loopbackOnly)).not.toThrow();
  });
});
