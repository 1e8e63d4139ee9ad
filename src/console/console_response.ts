import type { ConsoleFile } from "./console_assets.js";

/**
 * The console's Content-Security-Policy: everything from this origin only, no inline script or
 * style (the page has none: Vite emits one script and one stylesheet, both under assets/), no
 * plugins, no <base>, no native form submission (every form is handled by the script), and the
 * page may not be framed (clickjacking).
 */
export const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": consoleContentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/**
 * How long a browser may keep a file: the page is revalidated on every load (it names the
 * current assets), an asset's name changes with its content, so it never changes.
 */
export type CachePolicy = "revalidate" | "immutable";

const cacheControl: Readonly<Record<CachePolicy, string>> = {
  revalidate: "no-cache",
  immutable: "public, max-age=31536000, immutable",
};

export interface ConsoleResponse {
  readonly status: 200 | 304;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
}

/** The answer for one console file to a request with these headers: 304 for a current `If-None-Match`, gzip where accepted. */
export function consoleFileResponse(file: ConsoleFile, cache: CachePolicy, requestHeaders: { get(name: string): string | null }): ConsoleResponse {
  const headers: Record<string, string> = {
    ...securityHeaders,
    "content-type": file.contentType,
    "cache-control": cacheControl[cache],
    etag: file.etag,
  };
  if (file.gzipped) headers.vary = "accept-encoding";
  if (matchesEtag(requestHeaders.get("if-none-match"), file.etag)) return { status: 304, headers };
  // A copy per answer: the cached bytes are never handed to a stream that could detach them.
  if (file.gzipped && acceptsGzip(requestHeaders.get("accept-encoding"))) {
    return { status: 200, headers: { ...headers, "content-encoding": "gzip" }, body: new Uint8Array(file.gzipped) };
  }
  return { status: 200, headers, body: new Uint8Array(file.body) };
}

function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

/** `gzip` listed without `q=0`. */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(",").some((part) => {
    const [coding, ...parameters] = part.trim().toLowerCase().split(";");
    if (coding?.trim() !== "gzip") return false;
    const q = parameters.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
