import type { IncomingMessage } from "node:http";
import azureFunctions, { type HttpRequest as AzureHttpRequest } from "@azure/functions";

// @azure/functions is CommonJS; its default export works from an ES module in plain Node as well as in a bundle.
const { HttpRequest } = azureFunctions;

/**
 * The node:http side of the local host: a request's body read within the limit, and the
 * @azure/functions HttpRequest a handler gets. The benchmark's adapter floor calls these too,
 * so that it measures exactly what the local host pays.
 */

export type BodyResult = Uint8Array | "too_large" | "timed_out";

/**
 * Reads the body up to the limit; past it, stops reading and says so instead of buffering the
 * rest. With `timeoutMs`, a body that has not fully arrived that long after the call (the local
 * host calls it as soon as the request's headers are in) is given up as "timed_out", so that a
 * stalled upload cannot hold the host. Either way the request is left paused, unread.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs?: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.pause();
    return Promise.resolve("too_large");
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let deadline: NodeJS.Timeout | undefined;
    const giveUp = (outcome: "too_large" | "timed_out") => {
      clearTimeout(deadline);
      req.pause();
      req.removeListener("data", onData);
      req.removeListener("end", onEnd);
      req.removeListener("error", onError);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        giveUp("too_large");
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      clearTimeout(deadline);
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      clearTimeout(deadline);
      reject(error);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    // A deadline for each request that has a body; one without (no length or 0, not chunked) ends at once.
    const length = req.headers["content-length"];
    if (timeoutMs !== undefined && ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined)) {
      deadline = setTimeout(() => giveUp("timed_out"), timeoutMs);
    }
  });
}

export function toHttpRequest(req: IncomingMessage, request: { method: string; url: URL; params: Record<string, string>; body: Uint8Array }): AzureHttpRequest {
  return new HttpRequest({
    method: request.method,
    url: request.url.toString(),
    headers: flattenHeaders(req),
    query: Object.fromEntries(request.url.searchParams),
    params: request.params,
    body: { bytes: request.body },
  });
}

/** A request's headers, each as one string (repeated ones joined with ", "), as the Functions host hands them over. */
function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
