/**
 * What src/host/local_host.ts pays per request before any app code runs, around a handler the
 * caller gives: every step of its `handle` runs here in the same order, through the local host's
 * own code where it has it — the Host and Origin checks (src/host/host_header_policy.ts,
 * src/http/origin_policy.ts), URL parsing, `readBody` with its deadline and `toHttpRequest`
 * (src/host/http_request_adapter.ts), an invocation id and `new InvocationContext`, and
 * `writeResponse` — except routing, which is replaced by one fixed match.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import azureFunctions, { type HttpRequest as Request, type HttpResponseInit, type InvocationContext as Context } from "@azure/functions";
import { assertHostAllowed } from "../../src/host/host_header_policy.js";
import { readBody, toHttpRequest } from "../../src/host/http_request_adapter.js";
import { writeResponse } from "../../src/host/response_writer.js";
import { checkOrigin } from "../../src/http/origin_policy.js";
import { serveHttpChild } from "./child_guard.js";

// @azure/functions is CommonJS: plain Node can only import its default export.
const { InvocationContext } = azureFunctions;

export const maxBodyBytes = 1024 * 1024; // the local host's default MAX_BODY_BYTES
const requestTimeoutMs = 30_000; // its default REQUEST_TIMEOUT_MS
const hostPolicy = { host: "127.0.0.1", allowedHosts: [] };
const originPolicy = { corsAllowedOrigins: [] };

/** Serves `handler` on a free loopback port behind the local host's adapter steps, and announces the port. */
export function serveBehindAdapter(functionName: string, handler: (request: Request, context: Context) => Promise<HttpResponseInit>): void {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    assertHostAllowed(req.headersDistinct.host, req.httpVersion, hostPolicy);
    const origin = checkOrigin(req.headers.origin, req.headers.host, originPolicy);
    const cors = origin.kind === "allowed" ? origin.headers : undefined;
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const method = (req.method ?? "GET").toUpperCase();
    const body = await readBody(req, maxBodyBytes, requestTimeoutMs);
    if (body === "too_large" || body === "timed_out") {
      res.statusCode = body === "too_large" ? 413 : 408;
      res.end();
      return;
    }
    const request = toHttpRequest(req, { method, url, params: {}, body });
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName,
      logHandler: () => {},
    });
    await writeResponse(res, await handler(request, context), cors);
  }

  serveHttpChild(server);
}
