import { AppError } from "../errors/app_error.js";

/**
 * Which browser pages may call the API: the app's own origin, and the origins listed in
 * CORS_ALLOWED_ORIGINS. Host-agnostic (no @azure/functions): the local host calls it for every
 * request, the core can call it so that the Functions host makes the same decision.
 *
 * Requests without an `Origin` header (curl, SDKs, server-to-server) are not browser
 * cross-origin requests and always pass; a browser sends `Origin` on every cross-origin request
 * and on every POST, so a page elsewhere cannot reach a handler without being named here.
 */
export interface OriginPolicyOptions {
  /** Normalised origins (`scheme://host[:port]`), as `config.http.corsAllowedOrigins` holds them. */
  readonly corsAllowedOrigins: readonly string[];
}

export type OriginCheck =
  /** No Origin header: not a browser cross-origin request. */
  | { readonly kind: "no_origin" }
  /** The page is served by this app (same host and port as the Host header): no CORS headers needed. */
  | { readonly kind: "same_origin" }
  /** A listed origin: the response must carry `headers` for the browser to hand it to the page. */
  | { readonly kind: "allowed"; readonly origin: string; readonly headers: Readonly<Record<string, string>> };

const hostHeaderPattern = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Methods a preflight announces when the route's own are not known. */
const defaultCorsMethods = ["GET", "POST", "OPTIONS"] as const;

/**
 * Decides on a request's Origin header given its Host header. Throws `origin_not_allowed` for
 * any other origin, `Origin: null` (sandboxed frames, file: pages) and malformed values included.
 */
export function checkOrigin(origin: string | undefined | null, host: string | undefined | null, options: OriginPolicyOptions): OriginCheck {
  if (origin === undefined || origin === null) return { kind: "no_origin" };
  const normalised = normaliseOrigin(origin);
  if (normalised !== undefined) {
    if (host && isSameOrigin(normalised, host)) return { kind: "same_origin" };
    if (options.corsAllowedOrigins.includes(normalised)) return { kind: "allowed", origin: normalised, headers: corsResponseHeaders(normalised) };
  }
  throw new AppError(
    "origin_not_allowed",
    `requests from the origin ${JSON.stringify(bounded(origin))} are not allowed; only this app's own pages and the origins listed in CORS_ALLOWED_ORIGINS may call it`,
    { details: { origin: bounded(origin) } },
  );
}

/** What the response to an allowed cross-origin request carries. */
function corsResponseHeaders(origin: string): Record<string, string> {
  return { "access-control-allow-origin": origin, vary: "origin" };
}

/**
 * Request headers a page may send: the API's, the session's, and MCP's own (the protocol
 * revision, and since 2026-07-28 the method and the tool's name; the 2025 revision's session and
 * stream resumption).
 */
const allowedRequestHeaders = "authorization, content-type, accept, x-session-id, mcp-protocol-version, mcp-method, mcp-name, mcp-session-id, last-event-id";

/** MCP's headers that carry a tool argument, `Mcp-Param-<name>`: named by each tool's schema, so allowed by their prefix. */
const mcpParamHeader = /^mcp-param-[a-z0-9_-]{1,64}$/;

/**
 * The answer to a CORS preflight (OPTIONS) of an allowed origin, for a route answering `methods`.
 * `requestedHeaders` is the preflight's Access-Control-Request-Headers: of those, MCP's argument
 * headers are allowed as well.
 */
export function preflightHeaders(origin: string, methods: readonly string[] = defaultCorsMethods, requestedHeaders?: string): Record<string, string> {
  const announced = [...new Set([...methods.map((m) => m.toUpperCase()), "OPTIONS"])];
  const paramHeaders = (requestedHeaders ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => mcpParamHeader.test(name));
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": announced.join(", "),
    "access-control-allow-headers": [allowedRequestHeaders, ...new Set(paramHeaders)].join(", "),
    "access-control-max-age": "600",
    vary: "origin",
  };
}

/** `scheme://host[:port]` of an http(s) Origin value, lower-cased with the default port dropped; undefined for anything else. */
function normaliseOrigin(origin: string): string | undefined {
  const value = origin.trim();
  if (value === "" || value.toLowerCase() === "null") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  // An Origin is only scheme, host and port; anything more is not what a browser sends.
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) return undefined;
  if (value.endsWith("/")) return undefined;
  return url.origin;
}

/** Same host and port as the Host header; the port is compared with the origin's scheme's default filled in. */
function isSameOrigin(origin: string, host: string): boolean {
  // Only a plain host[:port] or [ipv6][:port]: no user info, path or spaces that URL parsing would read past.
  if (!hostHeaderPattern.test(host)) return false;
  const scheme = origin.slice(0, origin.indexOf("//"));
  let requestHost: string;
  try {
    requestHost = new URL(`${scheme}//${host}`).host;
  } catch {
    return false;
  }
  return requestHost !== "" && requestHost === new URL(origin).host;
}

/** The origin as the caller sent it, bounded, for the error: it is the caller's own value, never a secret. */
function bounded(origin: string): string {
  return origin.length > 200 ? `${origin.slice(0, 200)}…` : origin;
}
