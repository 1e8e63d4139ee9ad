import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { assertHostAllowed, hostNameOf, isHostNameAllowed, type HostHeaderPolicyOptions } from "../../../src/host/host_header_policy.js";

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

/** The code assertHostAllowed throws for these Host lines, or "allowed". */
function verdict(lines: readonly string[] | undefined, httpVersion = "1.1", options: HostHeaderPolicyOptions = loopbackOnly): string {
  try {
    assertHostAllowed(lines, httpVersion, options);
    return "allowed";
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  }
}

describe("isHostNameAllowed", () => {
  it("answers loopback names", () => {
    for (const name of ["localhost", "127.0.0.1", "127.0.0.2", "::1", "app.localhost"]) {
      expect(isHostNameAllowed(name, loopbackOnly), name).toBe(true);
    }
  });

  it("refuses other names: a DNS-rebound domain, another address", () => {
    for (const name of ["evil.example", "localhost.evil.example", "10.0.0.5"]) {
      expect(isHostNameAllowed(name, loopbackOnly), name).toBe(false);
    }
  });

  it("answers the configured HOST, unless it is a wildcard address", () => {
    expect(isHostNameAllowed("10.0.0.5", { host: "10.0.0.5", allowedHosts: [] })).toBe(true);
    expect(isHostNameAllowed("fe80::1", { host: "fe80::1", allowedHosts: [] })).toBe(true);
    expect(isHostNameAllowed("0.0.0.0", { host: "0.0.0.0", allowedHosts: [] })).toBe(false);
    expect(isHostNameAllowed("::", { host: "::", allowedHosts: [] })).toBe(false);
  });

  it("answers the names in ALLOWED_HOSTS", () => {
    const options = { host: "0.0.0.0", allowedHosts: ["api.example.com"] };
    expect(isHostNameAllowed("api.example.com", options)).toBe(true);
    expect(isHostNameAllowed("other.example.com", options)).toBe(false);
  });
});

describe("assertHostAllowed", () => {
  it("lets one allowed Host through, on any port and in any case", () => {
    for (const host of ["localhost:7071", "127.0.0.1:7071", "[::1]:7071", "LOCALHOST"]) expect(verdict([host]), host).toBe("allowed");
    expect(verdict(["API.example.com:8443"], "1.1", { host: "0.0.0.0", allowedHosts: ["api.example.com"] })).toBe("allowed");
  });

  it("throws host_not_allowed naming the Host and ALLOWED_HOSTS for a well-formed name it does not answer to", () => {
    expect(verdict(["evil.example:7071"])).toBe("host_not_allowed");
    expect(() => assertHostAllowed(["evil.example:7071"], "1.1", loopbackOnly)).toThrow(/evil\.example:7071.*ALLOWED_HOSTS/);
  });

  it("throws invalid_host_header (RFC 9112 §3.2) for more than one Host line, whatever they name", () => {
    expect(verdict(["localhost:7071", "evil.example"])).toBe("invalid_host_header");
    expect(verdict(["localhost:7071", "localhost:7071"])).toBe("invalid_host_header");
    expect(verdict(["localhost", "localhost"], "1.0")).toBe("invalid_host_header");
  });

  it("throws invalid_host_header for a missing Host on HTTP/1.1 and for an empty or malformed value; HTTP/1.0 may go without", () => {
    expect(verdict(undefined)).toBe("invalid_host_header");
    expect(verdict([])).toBe("invalid_host_header");
    for (const value of ["", "evil@localhost", "a b", "localhost:123456"]) expect(verdict([value]), value).toBe("invalid_host_header");
    expect(verdict(undefined, "1.0")).toBe("allowed");
    expect(verdict([""], "1.0")).toBe("invalid_host_header");
  });
});
