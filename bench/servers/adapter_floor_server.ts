/**
 * Row "adapter floor": what src/host/local_host.ts pays per request before any app code runs.
 * Every step of its `handle` is mirrored here in the same order — URL parsing, reading the body
 * (same limit logic), flattening headers, `new HttpRequest`, an invocation id and
 * `new InvocationContext`, and the local host's own `writeResponse` — except routing, which is
 * replaced by one fixed match, and
 * the app, which is replaced by a trivial async handler. Keep it in step with local_host.ts.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import azureFunctions, { type HttpRequest as Request, type HttpResponseInit, type InvocationContext as Context } from "@azure/functions";
import { writeResponse } from "../../src/host/response_writer.js";
import { announce, exitWithParent } from "./child_guard.js";

// @azure/functions is CommonJS: plain Node can only import its default export.
const { HttpRequest, InvocationContext } = azureFunctions;

const maxBodyBytes = 1024 * 1024; // the local host's default MAX_BODY_BYTES
const functionName = "adapter-floor";

/** The app replaced by the least it can be: an async function returning a JSON body. */
async function trivialHandler(_request: Request, _context: Context): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: { status: "success", plugin: "echo", result: "hello", durationMs: 0, runId: "00000000-0000-4000-8000-000000000000" } };
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => res.destroy());
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const method = (req.method ?? "GET").toUpperCase();
  const body = await readBody(req, maxBodyBytes);
  if (body === "too_large") {
    res.statusCode = 413;
    res.end();
    return;
  }
  const request = new HttpRequest({
    method,
    url: url.toString(),
    headers: flattenHeaders(req),
    query: Object.fromEntries(url.searchParams),
    params: {},
    body: { bytes: body },
  });
  const invocationId = randomUUID();
  const context = new InvocationContext({
    invocationId,
    functionName,
    logHandler: () => {},
  });
  await writeResponse(res, await trivialHandler(request, context));
}

/** Same as readBody in src/host/local_host.ts. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | "too_large"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.pause();
    return Promise.resolve("too_large");
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        req.removeAllListeners("data");
        resolve("too_large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Same as flattenHeaders in src/host/local_host.ts. */
function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

server.listen(0, "127.0.0.1", () => {
  announce({ port: (server.address() as AddressInfo).port });
});
exitWithParent(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
