import type { ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import azureFunctions, { type Cookie, type HttpResponseInit } from "@azure/functions";
import { serialize } from "cookie";

const { HttpResponse } = azureFunctions;

// Status codes whose responses never carry a body.
const bodiless = new Set([204, 205, 304]);

/**
 * Writes what a function handler returned. The common case, a plain `{status, jsonBody,
 * headers}`, is serialised directly: going through HttpResponse (a fetch Response with a stream
 * body) costs more than the rest of the adapter. Anything else (a body, cookies, an HttpResponse,
 * a bodiless status) goes through HttpResponse, which knows those rules.
 *
 * `extraHeaders` are the host's own (CORS, Connection): set over the handler's, except `Vary`,
 * whose values are added to the handler's.
 */
export async function writeResponse(
  res: ServerResponse,
  result: HttpResponseInit | InstanceType<typeof HttpResponse>,
  extraHeaders?: Readonly<Record<string, string>>,
): Promise<void> {
  if (isPlainJson(result)) {
    res.statusCode = result.status ?? 200;
    let hasContentType = false;
    for (const [name, value] of headerEntries(result.headers)) {
      if (name.toLowerCase() === "content-type") hasContentType = true;
      res.setHeader(name, value);
    }
    if (!hasContentType) res.setHeader("content-type", "application/json");
    if (extraHeaders) setExtraHeaders(res, extraHeaders);
    res.end(JSON.stringify(result.jsonBody));
    return;
  }
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  if (extraHeaders) setExtraHeaders(res, extraHeaders);
  // HttpResponse keeps cookies apart from its headers; the Functions host turns them into Set-Cookie.
  if (response.cookies.length > 0) res.setHeader("set-cookie", response.cookies.map(setCookie));
  if (!response.body) {
    res.end();
    return;
  }
  // Streamed as it is produced (server-sent events); a client that leaves cancels the source.
  res.flushHeaders();
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res).catch(() => {});
}

function setExtraHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    const existing = name.toLowerCase() === "vary" ? res.getHeader(name) : undefined;
    if (existing === undefined || existing === "") {
      res.setHeader(name, value);
      continue;
    }
    const values = new Set(
      `${String(existing)}, ${value}`
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== ""),
    );
    res.setHeader(name, [...values].join(", "));
  }
}

function setCookie(cookie: Cookie): string {
  return serialize(cookie.name, cookie.value, {
    domain: cookie.domain,
    path: cookie.path,
    expires: typeof cookie.expires === "number" ? new Date(cookie.expires) : cookie.expires,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite?.toLowerCase() as "strict" | "lax" | "none" | undefined,
    maxAge: cookie.maxAge,
  });
}

function isPlainJson(result: object): result is HttpResponseInit & { jsonBody: unknown } {
  const init = result as HttpResponseInit;
  return (
    !(result instanceof HttpResponse) &&
    init.jsonBody !== undefined &&
    init.body === undefined &&
    (init.cookies === undefined || init.cookies.length === 0) &&
    !bodiless.has(init.status ?? 200)
  );
}

function headerEntries(headers: HttpResponseInit["headers"]): Iterable<[string, string]> {
  if (!headers) return [];
  if (headers instanceof Headers) return headers.entries();
  if (Array.isArray(headers)) return headers as [string, string][];
  return Object.entries(headers as Record<string, string>);
}
