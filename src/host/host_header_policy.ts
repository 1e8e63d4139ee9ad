import { isLoopback } from "../config/http_settings.js";
import { AppError } from "../errors/app_error.js";

/**
 * The Host names the local host answers to: loopback names, the address it was told to listen
 * on (HOST, unless that is a wildcard) and ALLOWED_HOSTS. A page on a DNS-rebound name (the
 * attacker's domain resolving to 127.0.0.1) sends its own name as Host, and is refused here
 * before its request reaches anything.
 */
export interface HostHeaderPolicyOptions {
  /** config.host: the listen address. */
  readonly host: string;
  /** config.http.allowedHosts: lower-case host names without port. */
  readonly allowedHosts: readonly string[];
}

const wildcardAddresses = new Set(["0.0.0.0", "::", "[::]"]);

/** The host name of a Host header value, lower-case, without port, brackets or a trailing dot; undefined when malformed. */
export function hostNameOf(hostHeader: string): string | undefined {
  const value = hostHeader.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed) return bracketed[1];
  const plain = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(value);
  if (!plain?.[1]) return undefined;
  const name = plain[1].endsWith(".") ? plain[1].slice(0, -1) : plain[1];
  return name === "" ? undefined : name;
}

/** Whether a host name (as hostNameOf reads it) is one the host answers to. */
export function isHostNameAllowed(name: string, options: HostHeaderPolicyOptions): boolean {
  if (isLoopback(name)) return true;
  const listen = options.host.toLowerCase().replace(/^\[|\]$/g, "");
  if (!wildcardAddresses.has(listen) && name === listen) return true;
  return options.allowedHosts.includes(name);
}

/**
 * Throws unless a request's Host header lines (`req.headersDistinct.host`: every line, where
 * `req.headers.host` keeps only the first) name a host this host answers to. As RFC 9112 §3.2
 * asks, 400 `invalid_host_header` for an HTTP/1.1 request without Host, for more than one Host line
 * and for a value that is not a host with an optional port (HTTP/1.0 requests may lack it); 403
 * `host_not_allowed` for a well-formed name it does not answer to.
 */
export function assertHostAllowed(hostLines: readonly string[] | undefined, httpVersion: string, options: HostHeaderPolicyOptions): void {
  if (hostLines === undefined || hostLines.length === 0) {
    if (httpVersion === "1.0") return;
    throw new AppError("invalid_host_header", "an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)");
  }
  if (hostLines.length > 1) {
    throw new AppError("invalid_host_header", `a request must carry exactly one Host header; this one carries ${hostLines.length} (RFC 9112 §3.2)`);
  }
  const hostHeader = hostLines[0]!;
  const shown = JSON.stringify(hostHeader.length > 200 ? `${hostHeader.slice(0, 200)}…` : hostHeader);
  const name = hostNameOf(hostHeader);
  if (name === undefined) throw new AppError("invalid_host_header", `the Host header ${shown} is not a host name with an optional port`);
  if (isHostNameAllowed(name, options)) return;
  throw new AppError(
    "host_not_allowed",
    `this host does not answer to the Host ${shown}; it answers to loopback names, HOST and the names listed in ALLOWED_HOSTS`,
  );
}
