import { AppError } from "../errors/app_error.js";

/** The part of a request this module needs: met by @azure/functions' HttpRequest and by test doubles. */
export interface RequestWithBody {
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * Bodies the local host has already read in full (src/host/local_host.ts): a function takes the
 * bytes from here instead of reading them back through the request's web stream, which costs more
 * than the rest of reading a request. The request keeps its body all the same. In the Functions
 * host there is none, and the body is read from the request.
 *
 * Kept on the request under a key only this module knows, rather than in a WeakMap: a WeakMap
 * entry per request is work for every garbage collection while the request lives.
 */
const bufferedBody = Symbol("bufferedBody");
type WithBufferedBody = { [bufferedBody]?: Uint8Array };
// As Request.text() decodes: UTF-8, a byte order mark dropped, invalid sequences replaced.
const utf8 = new TextDecoder();

export function setBufferedBody(request: object, body: Uint8Array): void {
  (request as WithBufferedBody)[bufferedBody] = body;
}

export async function readBodyText(request: RequestWithBody, maxBytes: number): Promise<string> {
  return bufferedText(request, maxBytes) ?? (await streamedText(request, maxBytes));
}

/** The body the host has read already, decoded; undefined when there is none (the Functions host). */
function bufferedText(request: RequestWithBody, maxBytes: number): string | undefined {
  const buffered = (request as WithBufferedBody)[bufferedBody];
  if (buffered === undefined) return undefined;
  if (buffered.byteLength > maxBytes) throw tooLarge(maxBytes);
  return utf8.decode(buffered);
}

async function streamedText(request: RequestWithBody, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const text = await request.text();
  if (Buffer.byteLength(text, "utf8") > maxBytes) throw tooLarge(maxBytes);
  return text;
}

/** Reads and parses a JSON body: an empty one and malformed JSON are invalid_request (its shape is the route's to check). */
export async function readJson(request: RequestWithBody, maxBytes: number): Promise<unknown> {
  // A body the host has read is used as it is, without waiting for one more promise.
  const text = bufferedText(request, maxBytes) ?? (await streamedText(request, maxBytes));
  if (text.trim() === "") throw new AppError("invalid_request", "request body is empty; a JSON object is required");
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_request", "request body is not valid JSON");
  }
}

function tooLarge(maxBytes: number): AppError {
  return new AppError("payload_too_large", `request body is larger than ${maxBytes} bytes`, { details: { maxBytes } });
}
