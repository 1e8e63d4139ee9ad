import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { readBodyText } from "../http/request_body.js";

/**
 * Between @azure/functions' HttpRequest and HttpResponseInit, which every host hands a function,
 * and the web-standard Request and Response the MCP SDK serves.
 */

/** Headers that describe one hop's framing, not the request. */
const hopHeaders = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

export interface FetchExchange {
  readonly request: Request;
  /** The body, parsed: handed to the SDK beside a Request without one, so that it reads and copies nothing. */
  readonly parsedBody: unknown;
}

/**
 * The request as the SDK takes it, its body read within `maxBodyBytes` (413 payload_too_large
 * past it). A body that is not JSON goes to the SDK as it came, for the SDK's own parse error.
 */
export async function toFetchExchange(request: HttpRequest, maxBodyBytes: number): Promise<FetchExchange> {
  const method = request.method.toUpperCase();
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!hopHeaders.has(name)) headers.set(name, value);
  });
  const text = method === "POST" ? await readBodyText(request, maxBodyBytes) : "";
  let parsedBody: unknown;
  try {
    parsedBody = text === "" ? undefined : JSON.parse(text);
  } catch {
    return { request: new Request(request.url, { method, headers, body: text }), parsedBody: undefined };
  }
  return { request: new Request(request.url, { method, headers }), parsedBody };
}

/**
 * The answer as the function returns it. A JSON answer goes the hosts' plain JSON path (one
 * write); anything else, server-sent events above all, as a stream that reaches the client as it
 * is written (the app enables HTTP streaming, functions/main.ts; the local host pipes it).
 */
export async function toHttpResponse(response: Response): Promise<HttpResponseInit> {
  const headers = Object.fromEntries(response.headers);
  if (response.body && headers["content-type"]?.startsWith("application/json")) {
    return { status: response.status, headers, jsonBody: await response.json() };
  }
  return { status: response.status, headers, ...(response.body ? { body: response.body } : {}) };
}
