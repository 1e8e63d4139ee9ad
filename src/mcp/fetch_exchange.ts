import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { readBodyText } from "../http/request_body.js";

/**
 * Between @azure/functions' HttpRequest and HttpResponseInit, which every host hands a function,
 * and the web-standard Request and Response the MCP SDK serves.
 */

/** Headers that describe one hop's framing, not the request: the Request is given its body whole. */
const hopHeaders = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/** The request as a web Request: its body read within `maxBodyBytes` (413 payload_too_large past it), and `signal` to abort when its client leaves. */
export async function toFetchRequest(request: HttpRequest, maxBodyBytes: number, signal: AbortSignal | undefined): Promise<Request> {
  const method = request.method.toUpperCase();
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!hopHeaders.has(name)) headers.set(name, value);
  });
  const body = method === "GET" || method === "HEAD" ? undefined : await readBodyText(request, maxBodyBytes);
  return new Request(request.url, { method, headers, body: body === "" ? undefined : body, ...(signal ? { signal } : {}) });
}

/**
 * The answer as the function returns it: the status, the headers and the body as a stream, so that
 * an answer of server-sent events reaches the client as it is written (the app enables HTTP
 * streaming, functions/main.ts; the local host pipes it).
 */
export function toHttpResponse(response: Response): HttpResponseInit {
  return { status: response.status, headers: response.headers, ...(response.body ? { body: response.body } : {}) };
}
