import type { IncomingMessage } from "node:http";
import azureFunctions, { type HttpRequest as AzureHttpRequest } from "@azure/functions";

// @azure/functions is CommonJS; its default export works from an ES module in plain Node as well as in a bundle.
const { HttpRequest } = azureFunctions;

/**
 * The node:http side of the local host: a request's body read within the limit, and the
 * @azure/functions HttpRequest a handler gets. The benchmark's adapter floor calls these too,
 * so that it measures exactly what the local host pays.
 */

/** Reads the body up to the limit; past it, stops reading and says so instead of buffering the rest. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | "too_large"> {
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

export function toHttpRequest(
  req: IncomingMessage,
  request: { method: string; url: URL; params: Record<string, string>; body: Uint8Array },
): AzureHttpRequest {
  return new HttpRequest({
    method: request.method,
    url: request.url.toString(),
    headers: flattenHeaders(req),
    query: Object.fromEntries(request.url.searchParams),
    params: request.params,
    body: { bytes: request.body },
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
