import { isLoopback } from "../config/config.js";
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

/**
 * Whether a request's Host header is one the host answers to. A missing Host is refused on
 * HTTP/1.1 (which requires it); HTTP/1.0 requests may lack it and are not a browser's.
 */
export function isHostAllowed(hostHeader: string | undefined, httpVersion: string, options: HostHeaderPolicyOptions): boolean {
  if (hostHeader === undefined || hostHeader.trim() === "") return httpVersion === "1.0" && hostHeader === undefined;
  const name = hostNameOf(hostHeader);
  if (name === undefined) return false;
  if (isLoopback(name)) return true;
  const listen = options.host.toLowerCase().replace(/^\[|\]$/g, "");
  if (!wildcardAddresses.has(listen) && name === listen) return true;
  return options.allowedHosts.includes(name);
}

/** Throws `host_not_allowed` unless the Host header is allowed. */
export function assertHostAllowed(hostHeader: string | undefined, httpVersion: string, options: HostHeaderPolicyOptions): void {
  if (isHostAllowed(hostHeader, httpVersion, options)) return;
  const shown = hostHeader === undefined ? "(none)" : JSON.stringify(hostHeader.length > 200 ? `${hostHeader.slice(0, 200)}…` : hostHeader);
  throw new AppError(
    "host_not_allowed",
    `this host does not answer to the Host ${shown}; it answers to loopback names, HOST and the names listed in ALLOWED_HOSTS`,
  );
}
